import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {openProxy} from '../core/services/proxy.js'

export default class Proxy extends BaseCommand<typeof Proxy> {
  static override enableJsonFlag = false
  static override summary = "Tunnel a local TCP port to a service's ready instances, for debugging."
  static override description = 'Listens on 127.0.0.1 (--port, else a free port, printed) and sends each connection to the next ready instance of the service, round robin, skipping one that does not answer; the instances are read from the state file every second, so moves and readiness are followed. Runs until interrupted. Not the production path: clients reach services through the edge nodes (`clusterctl endpoints`, docs/endpoints.md). Exit 3 for a job that does not exist or has no service port.'
  static override examples = ['<%= config.bin %> proxy web', '<%= config.bin %> proxy db --port 5432']
  static override args = {job: Args.string({description: 'The service.', required: true})}
  static override flags = {
    port: Flags.integer({description: 'Local port (default: a free one).', min: 1, max: 65_535}),
    address: Flags.string({description: 'Local address to listen on.', default: '127.0.0.1'}),
  }

  public async run(): Promise<void> {
    const job = this.args.job
    const proxy = await openProxy(await this.services(), job, {
      ...(this.flags.port === undefined ? {} : {port: this.flags.port}),
      host: this.flags.address,
      onEvent: (e) => {
        if (e.kind === 'backends') this.logToStderr(`${job}: ${e.ready} ready instance${e.ready === 1 ? '' : 's'}`)
        else if (e.kind === 'skipped') this.logToStderr(`${job}: ${e.backend} did not answer (${e.error}); trying the next`)
        else this.logToStderr(`${job}: connection closed: ${e.why}`)
      },
    })
    this.log(`Forwarding ${proxy.host}:${proxy.port} -> ${job}. Interrupt (Ctrl-C) to stop. For debugging only: clients reach services through the edges (\`clusterctl endpoints ${job}\`).`)
    let stop = (): void => undefined
    await new Promise<void>((resolve) => {
      stop = resolve
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await proxy.close()
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {ExitCode} from '../core/errors.js'
import {EDGE_READ_TIMEOUT_MS, getEndpoints, getLiveEndpoints} from '../core/services/endpoints.js'
import {endpointToJson, type EndpointJson, renderEndpoints} from '../ui/presenters/endpoints.js'

export default class Endpoints extends BaseCommand<typeof Endpoints> {
  static override summary = 'Where services are reached: their service port on every edge node, and each backend as HAProxy holds it there beside what clusterctl expects.'
  static override description = `For each service (a job with a service port): EDGE_ADDRESS:SERVICE_PORT for every edge node (\`clusterctl node edge NAME\`), and its backends (node address and host port of each task) with the state clusterctl holds them in on the edges: ready (in rotation: running, healthy and ready), drain (to stop: no new connections) or maint (not ready, or its node failed).

Each edge's HAProxy is read through its runtime API (read-only commands, edges in parallel, ${EDGE_READ_TIMEOUT_MS / 1000} s at most each) and shown beside that: up, drain, maint, down (its own check fails) or absent, per edge; a difference is marked MISMATCH (\`"mismatch": true\` in --json) and a server clusterctl does not want STALE: the next pass repairs both. An edge that does not answer is shown so (exit 5 after the listing); edges that are down are not asked. --no-live shows the state file's view only, without contacting the edges. Exit 3 for a job that does not exist or has no service port (docs/endpoints.md).`
  static override stateFile = 'empty' as const
  static override examples = ['<%= config.bin %> endpoints', '<%= config.bin %> endpoints web --json', '<%= config.bin %> endpoints --no-live']
  static override args = {job: Args.string({description: 'Only this service.'})}
  static override flags = {
    live: Flags.boolean({description: "Read each edge's HAProxy (its runtime API) beside the state file; --no-live shows the state file's view only, without contacting the edges.", default: true, allowNo: true}),
  }

  public async run(): Promise<EndpointJson[]> {
    if (!this.flags.live) {
      const endpoints = getEndpoints(await this.services(), this.args.job)
      if (!this.jsonEnabled()) this.log(renderEndpoints(endpoints, this.interactive))
      if (endpoints.length === 0) this.noteEmptyListing()
      return endpoints.map(endpointToJson)
    }

    const live = await getLiveEndpoints(await this.services({ssh: true}), this.args.job)
    if (!this.jsonEnabled()) this.log(renderEndpoints(live.endpoints, this.interactive, live))
    if (live.endpoints.length === 0) this.noteEmptyListing()
    if (live.readings.some((r) => r.unreachable)) process.exitCode = ExitCode.unreachable
    return live.endpoints.map(endpointToJson)
  }
}

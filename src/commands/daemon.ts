import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {UserError} from '../core/errors.js'
import {runDaemon} from '../core/reconcile/daemon.js'
import {parseDurationMs} from '../core/spec/validate.js'

export default class Daemon extends BaseCommand<typeof Daemon> {
  static override enableJsonFlag = false
  static override summary = 'Run the reconcile pass in a loop, as the one controller of the cluster, until SIGINT or SIGTERM.'
  static override description = `Only one controller acts at a time: the daemon holds a lease in the state file (renewed every pass; it lapses three intervals, at least 15 s, after the last renewal, so a daemon killed with -9 blocks others only that long). A second daemon stands by until the lease is free. One-shot commands (run, apply, scale, ...) record their change and wait for the daemon's next pass; schedule refuses to race it. Prints one line per action, change of pending work or lease change. SIGINT or SIGTERM: the current pass finishes, the lease is released, exit 0.

The failure-watch features (heartbeats and node states, health checks, restart back-off, partitions, moving work to better nodes, drain) and the Ink dashboard are not in this version: the pass replaces exited or vanished containers and removes orphans, every interval.`
  static override examples = ['<%= config.bin %> daemon', '<%= config.bin %> daemon --interval 5s']
  static override flags = {
    interval: Flags.string({description: 'Time between passes, e.g. 2s or 500ms.', default: '2s'}),
  }

  public async run(): Promise<void> {
    let intervalMs: number
    try {
      intervalMs = parseDurationMs(this.flags.interval, '--interval')
    } catch {
      throw new UserError(`--interval expects a duration like 2s or 500ms, got ${JSON.stringify(this.flags.interval)}.`)
    }

    if (intervalMs < 100) throw new UserError('--interval must be at least 100ms.')
    const controller = new AbortController()
    const stop = (): void => controller.abort()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    try {
      await runDaemon(await this.services({ssh: true}), {
        intervalMs,
        signal: controller.signal,
        log: (line) => this.log(`${new Date().toISOString()} ${line}`),
      })
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}

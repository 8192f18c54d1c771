import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {durationFlag} from '../cli/flag-parsers.js'
import {DAEMON_KEEPALIVE, runDaemon} from '../core/reconcile/daemon.js'
import {livenessFlags, livenessOptions} from '../cli/liveness-flags.js'
import {runDaemonWithDashboard, wantsDashboard} from '../cli/daemon-dashboard.js'
import {passLogLines} from '../ui/presenters/pass.js'

export default class Daemon extends BaseCommand<typeof Daemon> {
  static override enableJsonFlag = false
  static override summary = 'Run the reconcile pass in a loop, as the one controller of the cluster, until SIGINT or SIGTERM.'
  static override description = `Only one controller acts at a time: the daemon holds a lease in the state file (renewed every pass; it lapses three intervals, at least 15 s, after the last renewal, so a daemon killed with -9 blocks others only that long). A second daemon stands by until the lease is free. One-shot commands (run, apply, scale, ...) record their change, wait for the daemon's first pass after it (--timeout) and report and exit by that pass's outcome, as they would by their own; schedule refuses to race it. Prints one line per action, change of pending work or lease change. SIGINT or SIGTERM: the current pass finishes, the lease is released, exit 0.

Every pass observes every node (one SSH round trip: heartbeat, health checks, containers). Each node's heartbeat deadline adapts to its own recent latencies (phi accrual, between --heartbeat-timeout and --heartbeat-ceiling; measured from when the command was sent, connecting has its own timeout): a node whose login shell takes 1.5 s is not judged by a fast node's standard. A node that misses a heartbeat is suspect (no new work); after two misses and --down-after of silence it is down (or unreachable, when it refuses us) and its tasks are replaced elsewhere; when it answers again, the surplus old tasks are stopped. Exited containers and unhealthy tasks are replaced with exponential back-off; draining nodes are emptied make-before-break; running tasks move to clearly better nodes, two per pass. See docs/failure-handling.md.

On a terminal the daemon shows the dashboard of "clusterctl dashboard" with its own log in the Events view; q (or ctrl-c) stops it cleanly. On a pipe, or with --no-tui, it prints plain log lines.`
  static override examples = ['<%= config.bin %> daemon', '<%= config.bin %> daemon --interval 5s', '<%= config.bin %> daemon --no-tui >> /var/log/clusterctl.log']
  static override flags = {
    interval: Flags.string({description: 'Time between the starts of two passes, e.g. 2s or 500ms.', default: '2s'}),
    tui: Flags.boolean({description: 'On a terminal, show the dashboard with the daemon in it (q stops the daemon); --no-tui prints plain log lines, as on a pipe.', default: true, allowNo: true}),
    ...livenessFlags(true),
    'auto-drain': Flags.boolean({description: 'Cordon a node with a critical health condition and drain it make-before-break, one node at a time, when what-if says the rest of the cluster can hold its work (else it is only cordoned, and the event says why). See docs/health.md.', default: false}),
    'preemption-delay': Flags.string({description: 'How long a task must be pending before it may preempt running tasks of a priority at least 10 lower.', default: '3m'}),
  }

  public async run(): Promise<void> {
    const intervalMs = durationFlag('--interval', this.flags.interval, '2s or 500ms', 100)
    const liveness = livenessOptions(this.flags)
    const controller = new AbortController()
    const stop = (): void => controller.abort()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    try {
      const ctx = await this.services({ssh: true, pool: DAEMON_KEEPALIVE})
      const preemptionDelayMs = durationFlag('--preemption-delay', this.flags['preemption-delay'], '3m or 30s')
      const passOptions = {...liveness, autoDrain: this.flags['auto-drain'], preemptionDelayMs}
      if (wantsDashboard(this.flags.tui, process.stdin, process.stdout)) {
        await runDaemonWithDashboard(ctx, {intervalMs, passOptions, passLines: passLogLines, controller, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr})
        return
      }

      await runDaemon(ctx, {
        intervalMs,
        signal: controller.signal,
        passOptions,
        passLines: passLogLines,
        log: (line) => this.log(`${new Date().toISOString()} ${line}`),
      })
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}

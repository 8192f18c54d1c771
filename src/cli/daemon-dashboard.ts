/**
 * `clusterctl daemon` on a terminal: the daemon runs in this process and the
 * dashboard shows it. Its log lines feed the event log, every pass refreshes the
 * screen, and quitting (q, ctrl-c) aborts the daemon: its pass finishes, the
 * lease is released, then the dashboard goes and the process exits 0.
 */
import {type DaemonOptions, runDaemon} from '../core/reconcile/daemon.js'
import type {ServiceContext} from '../core/context.js'
import {dashboardSource} from '../core/services/dashboard.js'
import {renderDashboard} from '../ui/dashboard/render.js'

export interface DaemonDashboardOptions extends Omit<DaemonOptions, 'log' | 'onPass' | 'signal'> {
  /** Aborting it stops the daemon (SIGINT, SIGTERM, or q in the dashboard). */
  controller: AbortController
  stdin: NodeJS.ReadStream
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
}

/** Whether `clusterctl daemon` shows the dashboard: both ends a terminal, and not --no-tui. */
export function wantsDashboard(tui: boolean, stdin: {isTTY?: boolean}, stdout: {isTTY?: boolean}): boolean {
  return tui && Boolean(stdin.isTTY) && Boolean(stdout.isTTY)
}

export async function runDaemonWithDashboard(ctx: ServiceContext, options: DaemonDashboardOptions): Promise<void> {
  const {controller, stdin, stdout, stderr, ...daemon} = options
  const dashboard = renderDashboard({
    source: dashboardSource(ctx, ctx.store.file),
    stdin,
    stdout,
    stderr,
    mode: 'daemon',
    onQuit: () => controller.abort(),
  })
  let last = ''
  try {
    await runDaemon(ctx, {
      ...daemon,
      signal: controller.signal,
      log: (line) => {
        last = line
        dashboard.log(line, ctx.clock.now())
      },
      onPass: () => dashboard.refresh(),
    })
  } finally {
    dashboard.daemonStopped()
    dashboard.unmount()
    await dashboard.waitUntilExit()
  }

  // Back on the normal screen: say how it ended.
  if (last) stdout.write(`${new Date(ctx.clock.now()).toISOString()} ${last}\n`)
}

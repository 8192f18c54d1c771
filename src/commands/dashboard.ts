import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {durationFlag} from '../cli/flag-parsers.js'
import {UserError} from '../core/errors.js'
import {dashboardSource} from '../core/services/dashboard.js'
import {renderDashboard} from '../ui/dashboard/render.js'

export default class Dashboard extends BaseCommand<typeof Dashboard> {
  static override enableJsonFlag = false
  static override summary = 'Watch the cluster in a terminal dashboard, attached to the state file, beside a running daemon or none.'
  static override description = `Views: a cluster summary (nodes by state; CPU, memory and GPUs allocated against capacity), nodes, jobs, tasks, a job's or node's detail and the live event log. Keys: tab or 1-5 switch views, arrows or j/k move, enter opens a detail, / filters, c/u cordon and uncordon a node, d drains it (after a y), s scales a job, x stops a task, l shows a task's logs, ? lists every key, q quits. Actions go through the same services as the commands (node cordon, node drain, scale, logs). It reads the state file every --refresh and never takes the controller lease: quitting it never stops a daemon running elsewhere. \`clusterctl daemon\` on a terminal shows the same view with the daemon in-process. Needs a terminal; see docs/dashboard.md.`
  static override examples = ['<%= config.bin %> dashboard', '<%= config.bin %> dashboard --db /srv/cluster/state.db --refresh 500ms']
  static override flags = {
    refresh: Flags.string({description: 'How often the state file is read again, e.g. 1s or 500ms.', default: '1s'}),
  }

  public async run(): Promise<void> {
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      throw new UserError('clusterctl dashboard needs a terminal: its input or output is not a TTY.', {
        hint: 'Run it in a terminal; for scripts use `clusterctl nodes`, `clusterctl ps` or `clusterctl events -f` (all take --json).',
      })
    }

    const refreshMs = parseRefresh(this.flags.refresh)
    const ctx = await this.services({ssh: true})
    const dashboard = renderDashboard({source: dashboardSource(ctx, ctx.store.file), stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, refreshMs})
    const stop = (): void => dashboard.unmount()
    process.once('SIGTERM', stop)
    process.once('SIGHUP', stop)
    try {
      await dashboard.waitUntilExit()
    } finally {
      process.off('SIGTERM', stop)
      process.off('SIGHUP', stop)
    }
  }
}

function parseRefresh(text: string): number {
  return durationFlag('--refresh', text, '1s or 500ms', 100)
}

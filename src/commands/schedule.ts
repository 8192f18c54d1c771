import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {livenessFlags, livenessOptions} from '../cli/liveness-flags.js'
import {converge} from '../core/reconcile/controller.js'
import type {PassReport} from '../core/reconcile/report.js'
import {exitCodeOfPass} from '../cli/job-command.js'
import {durationFlag} from '../cli/flag-parsers.js'
import {renderPass} from '../ui/presenters/pass.js'

export default class Schedule extends BaseCommand<typeof Schedule> {
  static override summary = 'Run one pass: observe every node, place pending tasks, start, stop and replace containers, and print what was done.'
  static override description = 'Safe to run from cron: only one controller acts at a time (a lease in the state file); while a daemon runs, schedule exits 1 and says so (--dry-run still works). Exit 0 when the cluster matches the desired state, 4 when work stays pending, 1 when an action failed. Without liveness flags a one-shot pass is patient (any answer counts); with --down-after, --heartbeat-timeout or --heartbeat-ceiling it judges nodes as the daemon does, with those settings (the daemon\'s defaults for the others).'
  static override examples = ['<%= config.bin %> schedule', '<%= config.bin %> schedule --dry-run', '<%= config.bin %> schedule --dry-run --seed 1234567', '<%= config.bin %> schedule --json']
  static override flags = {
    'dry-run': Flags.boolean({description: 'Only print the plan; change nothing.'}),
    ...livenessFlags(false),
    'preemption-delay': Flags.string({description: 'How long a task must be pending before it may preempt running tasks of a priority at least 10 lower (default 3m); --dry-run shows the preemptions planned.'}),
    seed: Flags.integer({description: 'Seed of the scheduler\'s tie-breaks (default: from the time). Every pass reports its seed (`--json`: "seed"; events of placements: data.seed): `--dry-run --seed N` replays that placement.'}),
  }

  public async run(): Promise<PassReport> {
    // With any liveness flag the pass judges nodes as the daemon does (deadlines, not patience).
    const judged = this.flags['down-after'] !== undefined || this.flags['heartbeat-timeout'] !== undefined || this.flags['heartbeat-ceiling'] !== undefined
    const liveness = judged ? {...livenessOptions(this.flags), observe: {patient: false}} : {}
    const delay = this.flags['preemption-delay']
    const pass = await converge(await this.services({ssh: true}), {dryRun: this.flags['dry-run'], leaveToDaemon: false, ...liveness, ...(this.flags.seed === undefined ? {} : {seed: this.flags.seed}), ...(delay === undefined ? {} : {preemptionDelayMs: durationFlag('--preemption-delay', delay, '3m or 30s')})})
    process.exitCode = exitCodeOfPass(pass)
    if (!this.jsonEnabled()) this.log(renderPass(pass, this.interactive))
    return pass
  }
}

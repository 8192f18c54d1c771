import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {type PassReport, runPass} from '../core/reconcile/pass.js'
import {exitCodeOfPass} from '../job-command.js'
import {renderPass} from '../ui/presenters/jobs.js'

export default class Schedule extends BaseCommand<typeof Schedule> {
  static override summary = 'Run one pass: observe every node, place pending tasks, start, stop and replace containers, and print what was done.'
  static override description = 'Safe to run from cron. Exit 0 when the cluster matches the desired state, 4 when work stays pending, 1 when an action failed.'
  static override examples = ['<%= config.bin %> schedule', '<%= config.bin %> schedule --dry-run', '<%= config.bin %> schedule --json']
  static override flags = {
    'dry-run': Flags.boolean({description: 'Only print the plan; change nothing.'}),
  }

  public async run(): Promise<PassReport> {
    const pass = await runPass(await this.services({ssh: true}), {dryRun: this.flags['dry-run']})
    process.exitCode = exitCodeOfPass(pass)
    if (!this.jsonEnabled()) this.log(renderPass(pass, this.interactive))
    return pass
  }
}

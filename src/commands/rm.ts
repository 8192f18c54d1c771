import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import type {PassReport} from '../core/reconcile/report.js'
import {removeJob} from '../core/services/jobs.js'
import {exitCodeOfPass, waitFlags, waitMsOf} from '../cli/job-command.js'
import {renderPass} from '../ui/presenters/pass.js'

export default class Rm extends BaseCommand<typeof Rm> {
  static override summary = 'Stop every instance of a job and remove the job.'
  static override description = 'A job that other jobs run after (--after) is refused unless --force; with --force, those jobs no longer wait for it.'
  static override examples = ['<%= config.bin %> rm web', '<%= config.bin %> rm extract --force']
  static override args = {job: Args.string({description: 'Job name.', required: true})}
  static override flags = {...waitFlags, force: Flags.boolean({description: 'Remove it even when other jobs run after it.'})}

  public async run(): Promise<{removed: string; pass: PassReport; orphanedChildren: string[]}> {
    const result = await removeJob(await this.services({ssh: true}), this.args.job, {force: this.flags.force, waitMs: waitMsOf(this.flags.timeout)})
    process.exitCode = exitCodeOfPass(result.pass, [result.job.name])
    if (!this.jsonEnabled()) {
      this.log(renderPass(result.pass, this.interactive))
      this.log(`Removed job ${result.job.name}.`)
    }

    if (!this.jsonEnabled() && result.orphanedChildren.length > 0) this.log(`${result.orphanedChildren.join(', ')} no longer wait${result.orphanedChildren.length === 1 ? 's' : ''} for it.`)
    return {removed: result.job.name, pass: result.pass, orphanedChildren: result.orphanedChildren}
  }
}

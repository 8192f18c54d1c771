import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import type {PassReport} from '../core/reconcile/report.js'
import {restartJob} from '../core/services/jobs.js'
import {exitCodeOfPass, waitFlags, waitMsOf} from '../cli/job-command.js'
import {renderPass} from '../ui/presenters/pass.js'

export default class Restart extends BaseCommand<typeof Restart> {
  static override summary = 'Replace every instance of a job with a fresh container, make-before-break.'
  static override description = 'Each new container is started before the old one of its instance is stopped, so the job never drops below its running instances (given room on the nodes for one extra container per instance).'
  static override examples = ['<%= config.bin %> restart web']
  static override flags = {...waitFlags}
  static override args = {job: Args.string({description: 'Job name.', required: true})}

  public async run(): Promise<{job: string; pass: PassReport}> {
    const result = await restartJob(await this.services({ssh: true}), this.args.job, {waitMs: waitMsOf(this.flags.timeout)})
    process.exitCode = exitCodeOfPass(result.pass, [result.job.name])
    if (!this.jsonEnabled()) this.log(renderPass(result.pass, this.interactive))
    return {job: result.job.name, pass: result.pass}
  }
}

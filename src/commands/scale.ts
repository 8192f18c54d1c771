import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {UserError} from '../core/errors.js'
import type {PassReport} from '../core/reconcile/report.js'
import {scaleJob} from '../core/services/jobs.js'
import {instancesProblem} from '../core/spec/validate.js'
import {exitCodeOfPass, waitFlags, waitMsOf} from '../cli/job-command.js'
import {renderPass} from '../ui/presenters/pass.js'

export default class Scale extends BaseCommand<typeof Scale> {
  static override summary = 'Set the number of instances of a job, and converge in one pass.'
  static override description = 'Scaling down stops the highest-numbered instances.'
  static override examples = ['<%= config.bin %> scale web 5', '<%= config.bin %> scale web 0']
  static override flags = {...waitFlags}
  static override args = {job: Args.string({description: 'Job name.', required: true}), instances: Args.string({description: 'Instances (>= 0).', required: true})}

  public async run(): Promise<{job: string; instances: number; pass: PassReport}> {
    const text = this.args.instances
    const problem = /^\d+$/.test(text) ? instancesProblem(Number(text), text) : `must be a whole number >= 0, got ${JSON.stringify(text)}`
    if (problem) throw new UserError(`The instance count ${problem}.`)
    const result = await scaleJob(await this.services({ssh: true}), this.args.job, Number(text), {waitMs: waitMsOf(this.flags.timeout)})
    process.exitCode = exitCodeOfPass(result.pass, [result.job.name])
    if (!this.jsonEnabled()) this.log(renderPass(result.pass, this.interactive))
    return {job: result.job.name, instances: result.job.instances, pass: result.pass}
  }
}

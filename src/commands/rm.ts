import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import type {PassReport} from '../core/reconcile/report.js'
import {removeJob} from '../core/services/jobs.js'
import {exitCodeOfPass} from '../cli/job-command.js'
import {renderPass} from '../ui/presenters/pass.js'

export default class Rm extends BaseCommand<typeof Rm> {
  static override summary = 'Stop every instance of a job and remove the job.'
  static override examples = ['<%= config.bin %> rm web']
  static override args = {job: Args.string({description: 'Job name.', required: true})}

  public async run(): Promise<{removed: string; pass: PassReport}> {
    const result = await removeJob(await this.services({ssh: true}), this.args.job)
    process.exitCode = exitCodeOfPass(result.pass, [result.job.name])
    if (!this.jsonEnabled()) {
      this.log(renderPass(result.pass, this.interactive))
      this.log(`Removed job ${result.job.name}.`)
    }

    return {removed: result.job.name, pass: result.pass}
  }
}

import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import type {PassReport} from '../core/reconcile/report.js'
import {stopJob} from '../core/services/jobs.js'
import {exitCodeOfPass, waitFlags, waitMsOf} from '../cli/job-command.js'
import {renderPass} from '../ui/presenters/pass.js'

export default class Stop extends BaseCommand<typeof Stop> {
  static override summary = 'Stop every instance of a job (SIGTERM, then SIGKILL after a grace period) and keep the job.'
  static override description = 'Start it again with `clusterctl scale JOB N` or `clusterctl apply`.'
  static override examples = ['<%= config.bin %> stop web']
  static override flags = {...waitFlags}
  static override args = {job: Args.string({description: 'Job name.', required: true})}

  public async run(): Promise<{job: string; pass: PassReport}> {
    const result = await stopJob(await this.services({ssh: true}), this.args.job, {waitMs: waitMsOf(this.flags.timeout)})
    process.exitCode = exitCodeOfPass(result.pass, [result.job.name])
    if (!this.jsonEnabled()) this.log(renderPass(result.pass, this.interactive))
    return {job: result.job.name, pass: result.pass}
  }
}

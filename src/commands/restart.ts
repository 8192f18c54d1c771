import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import type {PassReport} from '../core/reconcile/report.js'
import {restartJob} from '../core/services/jobs.js'
import {exitCodeOfPass, waitFlags, waitMsOf} from '../cli/job-command.js'
import {renderPass} from '../ui/presenters/pass.js'

export default class Restart extends BaseCommand<typeof Restart> {
  static override summary = 'Replace every instance of a job with a fresh container: a rolling deployment, make-before-break.'
  static override description = 'A new deployment (version) of the job with the same spec, rolled out within its upgrade bounds (default: one extra instance at a time; each new container is available for minHealthyTime before the old one of its instance stops). This command runs its first pass; the daemon, or `clusterctl rollout status JOB`, drives the rest (docs/deployments.md).'
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

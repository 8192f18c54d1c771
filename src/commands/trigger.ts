import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {exitCodeOfPass} from '../cli/job-command.js'
import type {PassReport} from '../core/reconcile/report.js'
import {triggerJob} from '../core/services/runs.js'
import {renderPass} from '../ui/presenters/pass.js'
import {type RunJson, runToJson} from '../ui/presenters/runs.js'

export default class Trigger extends BaseCommand<typeof Trigger> {
  static override summary = 'Start a run of a scheduled or dependent job now.'
  static override description = 'The run (trigger: manual) follows the job\'s concurrency policy (with forbid it waits for a run in progress) and does not use up a count of an Rn schedule. See `clusterctl runs JOB`.'
  static override examples = ['<%= config.bin %> trigger nightly']
  static override args = {job: Args.string({description: 'Job name.', required: true})}

  public async run(): Promise<{run: RunJson; pass: PassReport}> {
    const result = await triggerJob(await this.services({ssh: true}), this.args.job)
    process.exitCode = exitCodeOfPass(result.pass, [this.args.job])
    if (!this.jsonEnabled()) {
      this.log(renderPass(result.pass, this.interactive))
      this.log(`Run ${result.run.id}: ${result.run.state}.`)
    }

    return {run: runToJson(result.run), pass: result.pass}
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {exitCodeOfPass, waitFlags, waitMsOf} from '../../cli/job-command.js'
import type {PassReport} from '../../core/reconcile/report.js'
import {undoRollout} from '../../core/services/deployments.js'
import {deploymentToJson, type DeploymentJson} from '../../ui/presenters/deployments.js'
import {renderPass} from '../../ui/presenters/pass.js'

export default class RolloutUndo extends BaseCommand<typeof RolloutUndo> {
  static override summary = 'Go back to an earlier version of a job (default: the last one that rolled out completely), as a new rolling deployment.'
  static override examples = ['<%= config.bin %> rollout undo web', '<%= config.bin %> rollout undo web --to 3']
  static override flags = {...waitFlags, to: Flags.integer({description: 'The version to go back to (see `rollout history`).', min: 1})}
  static override args = {job: Args.string({description: 'Job name.', required: true})}

  public async run(): Promise<{deployment: DeploymentJson; from: number; pass: PassReport}> {
    const result = await undoRollout(await this.services({ssh: true}), this.args.job, {waitMs: waitMsOf(this.flags.timeout), ...(this.flags.to === undefined ? {} : {to: this.flags.to})})
    process.exitCode = exitCodeOfPass(result.pass, [this.args.job])
    if (!this.jsonEnabled()) {
      this.log(`${this.args.job}: version ${result.deployment.version} goes back from version ${result.from}; follow it with \`clusterctl rollout status ${this.args.job}\`.`)
      this.log(renderPass(result.pass, this.interactive))
    }

    return {deployment: deploymentToJson(result.deployment), from: result.from, pass: result.pass}
  }
}

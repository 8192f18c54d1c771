import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {setRolloutPaused} from '../../core/services/deployments.js'
import {deploymentToJson, type DeploymentJson} from '../../ui/presenters/deployments.js'

export default class RolloutResume extends BaseCommand<typeof RolloutResume> {
  static override summary = "Continue a paused rollout (its deadlines and failure count start again)."
  static override examples = ['<%= config.bin %> rollout resume web']
  static override args = {job: Args.string({description: 'Job name.', required: true})}

  public async run(): Promise<{deployment: DeploymentJson; changed: boolean}> {
    const {deployment, changed} = setRolloutPaused(await this.services(), this.args.job, false)
    if (!this.jsonEnabled()) this.log(`${this.args.job} v${deployment.version} ${changed ? 'is now' : 'was already'} ${deployment.state}.`)
    return {deployment: deploymentToJson(deployment), changed}
  }
}

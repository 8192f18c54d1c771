import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {setRolloutPaused} from '../../core/services/deployments.js'
import {deploymentToJson, type DeploymentJson} from '../../ui/presenters/deployments.js'

export default class RolloutPause extends BaseCommand<typeof RolloutPause> {
  static override summary = "Hold a job's rollout: no further instance is replaced until `rollout resume`."
  static override examples = ['<%= config.bin %> rollout pause web']
  static override args = {job: Args.string({description: 'Job name.', required: true})}

  public async run(): Promise<{deployment: DeploymentJson; changed: boolean}> {
    const {deployment, changed} = setRolloutPaused(await this.services(), this.args.job, true)
    if (!this.jsonEnabled()) this.log(`${this.args.job} v${deployment.version} ${changed ? 'is now' : 'was already'} ${deployment.state}.`)
    return {deployment: deploymentToJson(deployment), changed}
  }
}

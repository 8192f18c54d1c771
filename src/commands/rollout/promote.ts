import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {promoteRollout} from '../../core/services/deployments.js'
import {deploymentToJson, type DeploymentJson} from '../../ui/presenters/deployments.js'

export default class RolloutPromote extends BaseCommand<typeof RolloutPromote> {
  static override summary = "Let a rollout waiting on its canaries go on: the rest of the instances are replaced within the job's bounds."
  static override examples = ['<%= config.bin %> rollout promote web']
  static override args = {job: Args.string({description: 'Job name.', required: true})}

  public async run(): Promise<{deployment: DeploymentJson; changed: boolean}> {
    const {deployment, changed} = promoteRollout(await this.services(), this.args.job)
    if (!this.jsonEnabled()) this.log(`${this.args.job} v${deployment.version} ${changed ? 'is promoted' : 'was already promoted'}; \`clusterctl rollout status ${this.args.job}\` follows it.`)
    return {deployment: deploymentToJson(deployment), changed}
  }
}

import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {rolloutHistory} from '../../core/services/deployments.js'
import {deploymentToJson, type DeploymentJson, renderHistory} from '../../ui/presenters/deployments.js'

export default class RolloutHistory extends BaseCommand<typeof RolloutHistory> {
  static override summary = "A job's versions, newest first: what caused each, how its rollout ended and why."
  static override examples = ['<%= config.bin %> rollout history web']
  static override args = {job: Args.string({description: 'Job name.', required: true})}

  public async run(): Promise<DeploymentJson[]> {
    const list = rolloutHistory(await this.services(), this.args.job)
    if (!this.jsonEnabled()) this.log(renderHistory(list))
    return list.map(deploymentToJson)
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {removeNode} from '../../core/services/nodes.js'
import {nodeToJson, type NodeJson} from '../../ui/presenters/nodes.js'

export default class NodeRm extends BaseCommand<typeof NodeRm> {
  static override hiddenAliases = ['node:remove']
  static override summary = 'Forget a node: remove it from the state file (nothing on the host is touched). Refused while tasks run there, unless --force.'
  static override examples = ['<%= config.bin %> node rm web-1']
  static override args = {name: Args.string({description: 'Node name.', required: true})}
  static override flags = {force: Flags.boolean({description: 'Remove it even though tasks run there: they are recorded as lost and replaced elsewhere by the next pass (their containers are not touched).'})}

  public async run(): Promise<{removed: NodeJson}> {
    const node = removeNode(await this.services(), this.args.name, {force: this.flags.force})
    if (!this.jsonEnabled()) this.log(`Removed node ${node.name} (${node.resolvedAddress}).`)
    return {removed: nodeToJson(node)}
  }
}

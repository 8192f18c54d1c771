import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {getNode} from '../../core/services/nodes.js'
import {nodeToJson, type NodeJson, renderNodeDetail} from '../../ui/presenters/nodes.js'

export default class NodeInspect extends BaseCommand<typeof NodeInspect> {
  static override summary = 'Show one node: how it is reached, its resources, labels, host key and inventory.'
  static override examples = ['<%= config.bin %> node inspect web-1', '<%= config.bin %> node inspect web-1 --json']
  static override args = {name: Args.string({description: 'Node name.', required: true})}

  public async run(): Promise<NodeJson> {
    const node = getNode(await this.services(), this.args.name)
    if (!this.jsonEnabled()) this.log(renderNodeDetail(node, this.clock.now(), this.interactive))
    return nodeToJson(node, {inventory: true})
  }
}

import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {setSchedulable} from '../../core/services/nodes.js'
import {nodeToJson, type NodeJson} from '../../ui/presenters/nodes.js'

export default class NodeCordon extends BaseCommand<typeof NodeCordon> {
  static override summary = 'Stop placing new work on a node; what runs there keeps running.'
  static override examples = ['<%= config.bin %> node cordon web-1']
  static override args = {name: Args.string({description: 'Node name.', required: true})}

  public async run(): Promise<{node: NodeJson; changed: boolean}> {
    const {node, changed, cancelled} = setSchedulable(await this.services(), this.args.name, false)
    if (!this.jsonEnabled()) {
      this.log(changed ? `Node ${node.name} is now ${node.state}.` : `Node ${node.name} was already ${node.state}.`)
      if (cancelled.length > 0) this.log(`Its drain is given up: cancelled the pending replacement${cancelled.length === 1 ? '' : 's'} of ${cancelled.map((t) => `${t.jobName}.${t.instance}`).join(', ')}.`)
    }
    return {node: nodeToJson(node), changed}
  }
}

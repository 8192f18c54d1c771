import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {setEdge} from '../../core/services/nodes.js'
import {nodeToJson, type NodeJson} from '../../ui/presenters/nodes.js'

export default class NodeEdge extends BaseCommand<typeof NodeEdge> {
  static override summary = 'Mark a node as an edge node (--off: no longer one).'
  static override description = 'An edge node serves every service on its service port: clients reach a service at EDGE_ADDRESS:SERVICE_PORT, whichever nodes its instances run on (`clusterctl endpoints`, docs/endpoints.md). The mark is kept through cordon, drain and failures. Running the edge proxy (HAProxy) on the node is not done yet: this records the role.'
  static override examples = ['<%= config.bin %> node edge lb-1', '<%= config.bin %> node edge lb-1 --off']
  static override args = {name: Args.string({description: 'Node name.', required: true})}
  static override flags = {off: Flags.boolean({description: 'Unmark: the node is no longer an edge node.'})}

  public async run(): Promise<{node: NodeJson; changed: boolean}> {
    const on = !this.flags.off
    const {node, changed} = setEdge(await this.services(), this.args.name, on)
    if (!this.jsonEnabled()) this.log(`Node ${node.name} ${changed ? 'is now' : 'was already'} ${on ? 'an edge node' : 'not an edge node'}.`)
    return {node: nodeToJson(node), changed}
  }
}

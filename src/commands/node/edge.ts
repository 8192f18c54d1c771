import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {removeEdgeProxy} from '../../core/services/edge.js'
import {setEdge} from '../../core/services/nodes.js'
import {nodeToJson, type NodeJson} from '../../ui/presenters/nodes.js'

export default class NodeEdge extends BaseCommand<typeof NodeEdge> {
  static override summary = 'Mark a node as an edge node (--off: no longer one).'
  static override description = 'An edge node serves every service on its service port: clients reach a service at EDGE_ADDRESS:SERVICE_PORT, whichever nodes its instances run on (`clusterctl endpoints`, docs/endpoints.md). The mark is kept through cordon, drain and failures. Every pass (the daemon\'s, or a command\'s) keeps an HAProxy container running on each edge node, `clusterctl-edge` (image: `clusterctl edge image`); `--off` removes it from the node.'
  static override examples = ['<%= config.bin %> node edge lb-1', '<%= config.bin %> node edge lb-1 --off']
  static override args = {name: Args.string({description: 'Node name.', required: true})}
  static override flags = {off: Flags.boolean({description: 'Unmark: the node is no longer an edge node.'})}

  public async run(): Promise<{node: NodeJson; changed: boolean}> {
    const on = !this.flags.off
    const ctx = await this.services({ssh: true})
    const {node, changed} = setEdge(ctx, this.args.name, on)
    if (!this.jsonEnabled()) this.log(`Node ${node.name} ${changed ? 'is now' : 'was already'} ${on ? 'an edge node' : 'not an edge node'}.`)
    if (!on) {
      const failed = await removeEdgeProxy(ctx, node.name)
      if (failed) this.warn(`The edge proxy container on ${node.name} could not be removed (${failed}): remove it there with \`podman rm -f clusterctl-edge\`.`)
    }
    return {node: nodeToJson(node), changed}
  }
}

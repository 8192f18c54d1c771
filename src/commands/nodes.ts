import {BaseCommand} from '../cli/base-command.js'
import {getNodes} from '../core/services/nodes.js'
import {nodeToJson, type NodeJson, renderNodesTable} from '../ui/presenters/nodes.js'

export default class Nodes extends BaseCommand<typeof Nodes> {
  static override aliases = ['node:ls']
  static override summary = 'List nodes with their state and allocatable resources.'
  static override stateFile = 'empty' as const
  static override examples = ['<%= config.bin %> nodes', '<%= config.bin %> node ls --json']

  public async run(): Promise<NodeJson[]> {
    const nodes = getNodes(await this.services())
    if (!this.jsonEnabled()) this.log(renderNodesTable(nodes, this.clock.now(), this.interactive))
    if (nodes.length === 0) this.noteEmptyListing()
    return nodes.map((n) => nodeToJson(n))
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag} from '../../cli/flag-parsers.js'
import {drainNode, startDrain} from '../../core/services/nodes.js'
import {nodeToJson, type NodeJson} from '../../ui/presenters/nodes.js'

export default class NodeDrain extends BaseCommand<typeof NodeDrain> {
  static override summary = 'Cordon a node, then move its tasks to other nodes, make-before-break, and wait until it is empty.'
  static override description = `Each task gets a replacement on another node; the old task stops only once its replacement runs (and passes its health check, when the job has one), so a service never drops below its instance count. Passes run here under the controller lease, or, while a daemon runs, the daemon's passes do the work and this command waits for them. When the node is empty it stays cordoned: \`node uncordon\` returns it to service. Exit 1 when it is not empty within --timeout (the drain goes on).`
  static override examples = ['<%= config.bin %> node drain web-1', '<%= config.bin %> node drain web-1 --no-wait']
  static override args = {name: Args.string({description: 'Node name.', required: true})}
  static override flags = {
    timeout: Flags.string({description: 'How long to wait for the node to empty.', default: '5m'}),
    'no-wait': Flags.boolean({description: 'Mark the node draining and return at once; the controller moves its tasks.'}),
  }

  public async run(): Promise<{node: NodeJson; drained: boolean; elapsedMs: number}> {
    const timeoutMs = durationFlag('--timeout', this.flags.timeout, '5m or 90s')
    if (this.flags['no-wait']) {
      const {node} = startDrain(await this.services(), this.args.name)
      if (!this.jsonEnabled()) this.log(`Node ${node.name} is draining: the controller moves its tasks away, make-before-break.`)
      return {node: nodeToJson(node), drained: false, elapsedMs: 0}
    }

    let last = -1
    const result = await drainNode(await this.services({ssh: true}), this.args.name, {
      timeoutMs,
      onProgress: (remaining) => {
        if (this.jsonEnabled() || remaining.length === last) return
        last = remaining.length
        if (remaining.length > 0) this.log(`${this.args.name}: ${remaining.length} task${remaining.length === 1 ? '' : 's'} to move (${remaining.slice(0, 4).map((t) => `${t.jobName}.${t.instance}`).join(', ')}${remaining.length > 4 ? ', ...' : ''})`)
      },
    })
    if (!this.jsonEnabled()) this.log(`Node ${result.node.name} is drained (${(result.elapsedMs / 1000).toFixed(1)}s) and stays ${result.node.state}; \`clusterctl node uncordon ${result.node.name}\` returns it to service.`)
    return {node: nodeToJson(result.node), drained: true, elapsedMs: result.elapsedMs}
  }
}

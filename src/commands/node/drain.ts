import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag} from '../../cli/flag-parsers.js'
import {cancelDrain, type DrainItem, drainItemState, drainNode, startDrain} from '../../core/services/nodes.js'
import {drainPreview, waitingLine} from '../../core/services/what-if.js'
import {nodeToJson, type NodeJson} from '../../ui/presenters/nodes.js'

/** A replacement that cannot be placed is said again this often while the drain waits. */
const REPEAT_MS = 30_000

export default class NodeDrain extends BaseCommand<typeof NodeDrain> {
  static override summary = 'Cordon a node, then move its tasks to other nodes, make-before-break, and wait until it is empty.'
  static override description = `Each task gets a replacement on another node; the old task stops only once its replacement runs (and passes its health check, when the job has one), so a service never drops below its instance count. Passes run here under the controller lease, or, while a daemon runs, the daemon's passes do the work and this command waits for them. A replacement that cannot be placed is reported at once with the reason (and again every 30 s while it lasts). When the node is empty it stays cordoned: \`node uncordon\` returns it to service. A task whose local volume is on the node cannot move (its data is there): the drain stops it, cleanly, and says so first, per task; its instance waits for the node, and runs there again with its data after \`node uncordon\` (or elsewhere, without its data, after \`clusterctl volume forget VOLUME --new-empty\`); --json lists them under "waiting". Without --force, a drain is refused (exit 1, nothing changed) when \`clusterctl what-if --down NODE\` says some of its tasks would not fit elsewhere. Exit 1 when it is not empty within --timeout (the drain goes on), or when the drain is given up meanwhile. --cancel gives it up: the node stays cordoned and the replacements not yet placed are cancelled (\`node uncordon\` does the same and returns the node to service).`
  static override examples = ['<%= config.bin %> node drain web-1', '<%= config.bin %> node drain web-1 --no-wait', '<%= config.bin %> node drain web-1 --cancel']
  static override args = {name: Args.string({description: 'Node name.', required: true})}
  static override flags = {
    timeout: Flags.string({description: 'How long to wait for the node to empty.', default: '5m'}),
    'no-wait': Flags.boolean({description: 'Mark the node draining and return at once; the controller moves its tasks.'}),
    cancel: Flags.boolean({description: 'Give up a drain: the node stays cordoned, replacements not yet placed are cancelled.', exclusive: ['no-wait']}),
    force: Flags.boolean({description: 'Drain even when what-if says some of its tasks would not fit elsewhere (they keep running there until a replacement can be placed).'}),
  }

  public async run(): Promise<{node: NodeJson; drained: boolean; elapsedMs: number; cancelled?: Array<{job: string; instance: number; taskId: string}>; waiting?: Array<{job: string; instance: number; taskId: string; volume: string; message: string}>}> {
    const timeoutMs = durationFlag('--timeout', this.flags.timeout, '5m or 90s')

    if (this.flags.cancel) {
      const {node, changed, cancelled} = cancelDrain(await this.services(), this.args.name)
      if (!this.jsonEnabled()) {
        this.log(changed ? `The drain of ${node.name} is cancelled: it stays cordoned (\`clusterctl node uncordon ${node.name}\` returns it to service); tasks not yet moved stay.` : `Node ${node.name} is not draining (it is ${node.state}).`)
        for (const t of cancelled) this.log(`  cancelled the pending replacement of ${t.jobName}.${t.instance}`)
      }

      return {node: nodeToJson(node), drained: false, elapsedMs: 0, cancelled: cancelled.map((t) => ({job: t.jobName, instance: t.instance, taskId: t.id}))}
    }

    // What-if first: a drain whose work has nowhere to go needs --force (nothing is changed without it). Tasks whose
    // local volume is on the node cannot move: the drain stops them, each said plainly (docs/volumes.md).
    const preview = drainPreview(await this.services(), this.args.name, this.flags.force)
    const waiting = preview.waiting.map((w) => ({job: w.job, instance: w.instance, taskId: w.taskId, volume: w.volume, message: waitingLine(w)}))
    if (!this.jsonEnabled()) for (const w of waiting) this.log(w.message)

    if (this.flags['no-wait']) {
      const {node} = startDrain(await this.services(), this.args.name)
      if (!this.jsonEnabled()) this.log(`Node ${node.name} is draining: the controller moves its tasks away, make-before-break${waiting.length ? ` (and stops the ${waiting.length} above)` : ''}.`)
      return {node: nodeToJson(node), drained: false, elapsedMs: 0, waiting}
    }

    let last = -1
    const said = new Map<string, {text: string; at: number}>()
    const result = await drainNode(await this.services({ssh: true}), this.args.name, {
      timeoutMs,
      onProgress: (remaining) => {
        if (this.jsonEnabled()) return
        if (remaining.length !== last && remaining.length > 0) this.log(`${this.args.name}: ${remaining.length} task${remaining.length === 1 ? '' : 's'} to move (${remaining.slice(0, 4).map(({task}) => `${task.jobName}.${task.instance}`).join(', ')}${remaining.length > 4 ? ', ...' : ''})`)
        last = remaining.length
        for (const line of this.stuck(remaining, said)) this.log(line)
      },
    })
    if (!this.jsonEnabled()) this.log(`Node ${result.node.name} is drained (${(result.elapsedMs / 1000).toFixed(1)}s) and stays ${result.node.state}; \`clusterctl node uncordon ${result.node.name}\` returns it to service.`)
    return {node: nodeToJson(result.node), drained: true, elapsedMs: result.elapsedMs, waiting}
  }

  /** Replacements that cannot be placed: said when first seen or when the reason changes, then every REPEAT_MS. */
  private stuck(remaining: DrainItem[], said: Map<string, {text: string; at: number}>): string[] {
    const now = this.clock.now()
    const lines: string[] = []
    for (const {task, replacement} of remaining) {
      if (replacement?.state !== 'pending' || !replacement.reason) continue
      const text = `  ${task.jobName}.${task.instance}: ${drainItemState(task, replacement)}`
      const before = said.get(task.id)
      if (before && before.text === text && now - before.at < REPEAT_MS) continue
      said.set(task.id, {text, at: now})
      lines.push(text)
    }

    return lines
  }
}

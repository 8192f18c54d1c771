/**
 * Guarded auto-drain (`daemon --auto-drain`, docs/health.md), pure: a node with a
 * critical condition is cordoned and drained make-before-break, one node at a time, and
 * only when what-if says the rest of the cluster can hold its work; otherwise it is
 * cordoned and the reason says why it was not drained. A node already cordoned this way
 * is drained as soon as its work fits elsewhere.
 */
import {recommendsDrain} from '../health/conditions.js'
import type {Node} from '../model/node.js'
import type {Job, Task} from '../model/task.js'
import type {Volume} from '../model/volume.js'
import {whatIf} from './what-if.js'

export type AutoDrainDecision =
  | {kind: 'drain'; node: string; why: string}
  | {kind: 'cordon'; node: string; why: string}

export function planAutoDrain(input: {nodes: readonly Node[]; jobs: readonly Job[]; tasks: readonly Task[]; volumes?: readonly Volume[]; seed: number}): AutoDrainDecision | null {
  // One node at a time: nothing new while a drain is under way.
  if (input.nodes.some((n) => n.adminState === 'draining')) return null
  for (const node of input.nodes) {
    const critical = node.conditions.find(recommendsDrain)
    if (!critical || node.state === 'down' || node.state === 'unreachable') continue
    const holds = input.tasks.some((t) => t.nodeId === node.id && t.state !== 'pending' && t.desired === 'run')
    const why = `${critical.type} (${critical.reason}): ${critical.message}`
    if (!holds) {
      if (node.adminState === 'ready') return {kind: 'cordon', node: node.name, why: `${why}; it runs nothing, so it is only cordoned`}
      continue
    }

    const check = whatIf({...input, down: [node.name]})
    // A task whose local volume is on the node would stop and wait for it (docs/volumes.md): that is the
    // operator's call, never an automatic one. The node is only cordoned.
    if (check.fits && check.waiting.length > 0) {
      if (node.adminState === 'ready') return {kind: 'cordon', node: node.name, why: `${why}; not drained: ${check.waiting.length} task(s) keep their data on it and would stop until it returns (${check.waiting.map((w) => `${w.job}.${w.instance}: volume ${w.volume}`).join(', ')}); \`clusterctl node drain ${node.name}\` does it by hand`}
      continue
    }

    if (check.fits) return {kind: 'drain', node: node.name, why: `${why}; what-if: its ${check.moves.length} task(s) fit elsewhere`}
    if (node.adminState === 'ready') return {kind: 'cordon', node: node.name, why: `${why}; not drained: what-if says ${check.unplaced.length} task(s) would not fit elsewhere (${check.unplaced[0]!.job}.${check.unplaced[0]!.instance}: ${check.unplaced[0]!.reason})`}
  }

  return null
}

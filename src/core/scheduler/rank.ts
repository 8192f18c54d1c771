/**
 * Scores one task against every node, with reasons: "why not node-3?", and the input
 * for moving a running task to a better node (a strategy gain above a threshold, or a
 * preference that has become satisfiable). Pure and O(nodes + placed tasks).
 */
import {ClusterState, resolveOptions} from './cluster-state.js'
import {freeOf} from './filters.js'
import {Compiler} from './query.js'
import {GROUP_WEIGHT} from './scorers.js'
import type {ReasonCode, ScheduleOptions, Snapshot, TaskRequest} from './types.js'

export interface RankOptions extends ScheduleOptions {
  /**
   * Where the task runs now. Its resources and ports are given back to that node and
   * the task is left out of its job's constraint counts before ranking, so the current
   * node competes on equal terms.
   */
  current?: {nodeId: string; hostPorts?: readonly number[]}
}

export interface RankedNode {
  nodeId: string
  nodeName: string
  /** `1000 * groups + preferences + strategy`, compared part by part in that order. */
  score: number
  /** GROUP_BY values this node would open for the job. */
  groups: number
  /** Sum of the weights of the task's preferences the node matches. */
  preferences: number
  /** binpack or spread score, 0..1. */
  strategy: number
}

export interface RefusedNode {
  nodeId: string
  nodeName: string
  reason: ReasonCode
  /** e.g. `insufficient mem (need 2Gi, free 1.5Gi)` */
  text: string
}

export interface NodeRanking {
  taskId: string
  /** Nodes that can take the task, best first. */
  feasible: RankedNode[]
  refused: RefusedNode[]
  /** The current node's entry (only with `current`). */
  current?: {feasible: true; node: RankedNode} | {feasible: false; node: RefusedNode}
  /** The best feasible node other than the current one. */
  bestOther?: RankedNode
  /** bestOther.score - current score, when both are feasible. */
  gain?: number
}

export function rankNodesFor(snapshot: Snapshot, task: TaskRequest, options: RankOptions): NodeRanking {
  const current = options.current
  const state = new ClusterState(snapshot, resolveOptions(options), current === undefined ? undefined : task.taskId)
  const currentIdx = current === undefined ? undefined : state.index.get(current.nodeId)
  if (currentIdx !== undefined) state.release(currentIdx, task.resources, current?.hostPorts ?? [])
  const q = new Compiler(state).compile(task)

  const feasible: Array<{i: number; node: RankedNode}> = []
  const refused: RefusedNode[] = []
  let currentEntry: NodeRanking['current']
  for (let i = 0; i < state.n; i++) {
    const code = q.check(i)
    if (code === 0) {
      const groups = q.groupScore(i)
      const preferences = q.prefScore(i)
      const strategy = q.strategyScore(i)
      const node = {nodeId: state.ids[i]!, nodeName: state.names[i]!, score: GROUP_WEIGHT * groups + preferences + strategy, groups, preferences, strategy}
      feasible.push({i, node})
      if (i === currentIdx) currentEntry = {feasible: true, node}
    } else {
      const kind = q.rejections[code - 1]!
      const node = {nodeId: state.ids[i]!, nodeName: state.names[i]!, reason: kind.reason, text: kind.text(kind.column === undefined ? 0 : freeOf(state, kind.column, i), true)}
      refused.push(node)
      if (i === currentIdx) currentEntry = {feasible: false, node}
    }
  }
  feasible.sort((a, b) => q.compare(b.i, a.i) || state.tieRank[a.i]! - state.tieRank[b.i]!)
  const out: NodeRanking = {taskId: task.taskId, feasible: feasible.map((f) => f.node), refused}
  if (currentEntry !== undefined) out.current = currentEntry
  const other = feasible.find((f) => f.i !== currentIdx)
  if (other !== undefined) out.bestOther = other.node
  if (other !== undefined && currentEntry?.feasible === true) out.gain = other.node.score - currentEntry.node.score
  return out
}

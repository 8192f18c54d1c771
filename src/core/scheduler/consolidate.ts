/**
 * Consolidation of running work (pure): which running tasks to move so that whole nodes
 * become empty, in an order that make-before-break can follow.
 *
 * 1. The local search of a batch (improve.ts) runs over the running tasks that may move,
 *    from where they run now: it empties the least-filled nodes by swapping tasks into
 *    other nodes' room. Nodes that hold anything else never empty.
 * 2. When that frees at least one node, the moves (tasks whose node changed) are ordered
 *    so each can run while the task it replaces still holds its old node: a move goes
 *    next when its target has room for it now. When every target is full until another
 *    move leaves it (a swap), one task steps aside onto an empty node and goes on from
 *    there later. A plan that cannot be ordered whole is dropped (no empty node to step to).
 *
 * Tasks may move when they are binpack and their constraints depend on labels only (no
 * UNIQUE, MAX_PER, CLUSTER, GROUP_BY), never to a node with a lower preference score;
 * every move passes the task's filters (labels, resources, host ports).
 */
import {ClusterState, resolveOptions} from './cluster-state.js'
import type {Movable} from './improve.js'
import {improvePlacement, isMovable, workBudget} from './improve.js'
import {Compiler} from './query.js'
import {IndexedSearch} from './search.js'
import type {ScheduleOptions, Snapshot, TaskRequest} from './types.js'

export interface RunningTask {
  request: TaskRequest
  nodeId: string
  hostPorts: readonly number[]
}

export interface ConsolidationMove {
  taskId: string
  jobId: string
  from: {nodeId: string; nodeName: string}
  to: {nodeId: string; nodeName: string}
  /** The node this move helps empty: its origin when the plan empties it, else the first node the plan empties. */
  frees: {nodeId: string; nodeName: string}
}

export interface ConsolidationPlan {
  /** Nodes the plan empties. */
  freed: Array<{nodeId: string; nodeName: string}>
  /** In an order make-before-break can follow: each target has room while the origin still holds its task. */
  moves: ConsolidationMove[]
}

const NONE: ConsolidationPlan = {freed: [], moves: []}

/**
 * `snapshot` holds every running task (in `placed`, their resources in `allocated`);
 * `running` are the ones that may move (services, healthy, on ready nodes).
 */
export function planConsolidation(snapshot: Snapshot, running: readonly RunningTask[], options: ScheduleOptions): ConsolidationPlan {
  const resolved = resolveOptions(options)
  const state = new ClusterState(snapshot, resolved)
  const compiler = new Compiler(state)
  const movables: Movable[] = []
  for (const t of running) {
    const node = state.index.get(t.nodeId)
    if (node === undefined || state.stateCode[node] !== 0) continue
    const q = compiler.compile(t.request)
    if (!isMovable(q) || state.job(t.request.jobId).counters !== undefined) continue
    movables.push({task: t.request, q, node, hostPorts: [...t.hostPorts]})
  }
  if (movables.length < 2) return NONE
  const start = Int32Array.from(movables, (x) => x.node)
  const holders = new Int32Array(state.n)
  for (const x of movables) holders[x.node]!++
  // Every node may be emptied; improve() keeps those that hold anything else.
  improvePlacement(state, new IndexedSearch(state), movables, new Uint8Array(state.n).fill(1), workBudget(movables.length))
  const after = new Int32Array(state.n)
  for (const x of movables) after[x.node]!++
  const freed: number[] = []
  let opened = 0
  for (let i = 0; i < state.n; i++) {
    if (holders[i]! > 0 && after[i] === 0 && isEmpty(state, i)) freed.push(i)
    if (holders[i] === 0 && after[i]! > 0 && wasEmpty(snapshot, i)) opened++
  }
  // The gain must be whole nodes: as many emptied as newly used is no gain.
  if (freed.length <= opened) return NONE

  // Order the moves against the cluster as it runs now: a move goes when its target has room.
  const live = new ClusterState(snapshot, resolved)
  const liveCompiler = new Compiler(live)
  const waiting = movables.map((x, k) => ({k, x, q: liveCompiler.compile(x.task)})).filter((m) => start[m.k] !== m.x.node)
  const freedSet = new Set(freed)
  const ordered: ConsolidationMove[] = []
  const portsOf = new Map(running.map((t) => [t.request.taskId, t.hostPorts]))
  const from = Int32Array.from(start)
  const move = (m: (typeof waiting)[number], to: number): void => {
    const ports = live.place(to, m.x.task, false)
    live.release(from[m.k]!, m.x.task.resources, portsOf.get(m.x.task.taskId) ?? [])
    portsOf.set(m.x.task.taskId, ports)
    const origin = start[m.k]!
    ordered.push({taskId: m.x.task.taskId, jobId: m.x.task.jobId, from: ref(live, from[m.k]!), to: ref(live, to), frees: ref(live, freedSet.has(origin) ? origin : freed[0]!)})
    from[m.k] = to
  }
  /** Tasks that stepped aside once already (never twice: that could go round forever). */
  const stepped = new Set<number>()
  while (waiting.length > 0) {
    const w = waiting.findIndex((m) => m.q.check(m.x.node) === 0)
    if (w >= 0) {
      move(waiting[w]!, waiting[w]!.x.node)
      waiting.splice(w, 1)
      continue
    }
    // Every target is full until another move leaves it (a swap): one task steps aside onto
    // an empty node first and goes on from there later (one move more, the cycle broken).
    const aside = stepAside(live, waiting.filter((m) => !stepped.has(m.k)))
    if (aside === undefined) break
    stepped.add(aside.m.k)
    move(aside.m, aside.node)
  }
  // All or nothing: half a consolidation may hold more nodes than none.
  if (waiting.length > 0) return NONE
  return {freed: freed.map((i) => ref(state, i)), moves: ordered}
}

/** A waiting move whose task fits an empty ready node, and that node (the first in seeded order). */
function stepAside<M extends {x: Movable; q: {check(node: number): number}}>(live: ClusterState, waiting: readonly M[]): {m: M; node: number} | undefined {
  for (const m of waiting) {
    for (let j = 0; j < live.order.length; j++) {
      const i = live.order[j]!
      if (isEmpty(live, i) && m.q.check(i) === 0) return {m, node: i}
    }
  }
  return undefined
}

function ref(state: ClusterState, i: number): {nodeId: string; nodeName: string} {
  return {nodeId: state.ids[i]!, nodeName: state.names[i]!}
}

function wasEmpty(snapshot: Snapshot, i: number): boolean {
  const a = snapshot.nodes[i]!.allocated
  return a.cpuMilli === 0 && a.memBytes === 0 && a.diskBytes === 0 && a.gpus === 0
}

function isEmpty(s: ClusterState, i: number): boolean {
  return s.freeCpu[i] === s.capCpu[i] && s.freeMem[i] === s.capMem[i] && s.freeDisk[i] === s.capDisk[i] && s.freeGpu[i] === s.capGpu[i]
}

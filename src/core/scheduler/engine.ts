/**
 * The driver shared by the indexed and the naive scheduler: order the work, compile each
 * task, ask the search for a node, commit the placement to the working state (resources,
 * ports, job counters, indexes), and explain what stays pending. Only the node search
 * differs between the two, so the benchmark and the property tests compare exactly that.
 */
import {BugError} from '../errors.js'
import {ClusterState, resolveOptions} from './cluster-state.js'
import type {CompiledTask} from './query.js'
import {Compiler, requestSize} from './query.js'
import type {Movable} from './improve.js'
import {improvePlacement, isMovable, workBudget} from './improve.js'
import type {NodeSearch} from './search.js'
import {IndexedSearch, NaiveSearch} from './search.js'
import {clusterTotal, WorkOrder} from './order.js'
import type {RejectionSummary} from './summary.js'
import {summarize} from './summary.js'
import type {PendingTask, Placement, Plan, ScheduleOptions, Snapshot, TaskRequest} from './types.js'

export type SearchMode = 'indexed' | 'naive'

export interface Decision {
  readonly task: TaskRequest
  readonly q: CompiledTask
  /** The chosen node index, -1 when the task stays pending. */
  readonly node: number
  /** True when the answer came from the failure cache (an identical request failed and nothing freed up since). */
  readonly cached: boolean
}

/** Called before each decision is applied to the state (tests replay the naive search here). */
export type DecisionHook = (state: ClusterState, decision: Decision) => void

export interface RunResult {
  plan: Plan
  state: ClusterState
  /** Nodes examined by the indexed search over the whole run (0 for naive). */
  examined: number
}

/** The local search over the plan's movable tasks; the placements they name are rewritten in place. Returns the nodes it emptied. */
function improve(state: ClusterState, search: NodeSearch, snapshot: Snapshot, work: readonly TaskRequest[], placements: Placement[], placedIdx: readonly number[], placedQ: readonly CompiledTask[]): number {
  const emptyAtStart = new Uint8Array(state.n)
  snapshot.nodes.forEach((node, i) => {
    const a = node.allocated
    emptyAtStart[i] = a.cpuMilli === 0 && a.memBytes === 0 && a.diskBytes === 0 && a.gpus === 0 ? 1 : 0
  })
  for (const t of snapshot.placed) {
    const i = state.index.get(t.nodeId)
    if (i !== undefined) emptyAtStart[i] = 0
  }
  const movables: Movable[] = []
  const at: number[] = []
  for (let p = 0; p < placements.length; p++) {
    const q = placedQ[p]!
    const task = work[placedIdx[p]!]!
    if (!isMovable(q) || state.job(task.jobId).counters !== undefined) continue
    const pl = placements[p]!
    movables.push({task, q, node: state.index.get(pl.nodeId)!, hostPorts: pl.hostPorts})
    at.push(p)
  }
  const {freed} = improvePlacement(state, search, movables, emptyAtStart, workBudget(placements.length))
  // Nothing saved: the search put every task back where the greedy step had it; its placements stand (host ports included).
  if (freed === 0) return 0
  for (let j = 0; j < movables.length; j++) {
    const x = movables[j]!
    const pl = placements[at[j]!]!
    if (state.ids[x.node] === pl.nodeId && x.hostPorts === pl.hostPorts) continue
    placements[at[j]!] = {...pl, nodeId: state.ids[x.node]!, hostPorts: x.hostPorts, score: x.q.totalScore(x.node)}
  }
  return freed
}

export function runSchedule(snapshot: Snapshot, work: readonly TaskRequest[], options: ScheduleOptions, mode: SearchMode, hook?: DecisionHook): RunResult {
  const state = new ClusterState(snapshot, resolveOptions(options))
  const compiler = new Compiler(state)
  const indexed = mode === 'indexed' ? new IndexedSearch(state) : undefined
  const search: NodeSearch = indexed ?? new NaiveSearch(state)
  let examined = 0

  const seen = new Set<string>()
  for (const t of work) {
    if (seen.has(t.taskId)) throw new BugError(`work lists task ${t.taskId} twice`)
    seen.add(t.taskId)
  }
  // Weighted DRF between teams, then priority, then largest first (stable: equal keys keep the
  // order of `work`, so a job's instances stay together and share one compiled shape).
  const size = state.options.order === 'largest-first' ? Float64Array.from(work, (t) => requestSize(state, t)) : undefined
  const order = new WorkOrder(work, {total: clusterTotal(snapshot.nodes), ...(options.teams ? {teams: options.teams} : {}), ...(size ? {size: (i: number) => size[i]!} : {})})
  /** Compiled shapes of the tasks that are pending (for retries and summaries). */
  const compiledPending = new Map<number, CompiledTask>()

  /** Feasibility key -> the job's placement count when a request with that key last failed. */
  const failed = new Map<string, number>()
  /** Task index -> the job's placement count when it last failed. */
  const pending = new Map<number, number>()
  const placements: Placement[] = []
  /** Work index of each placement, in `placements` order. */
  const placedIdx: number[] = []
  const placedQ: CompiledTask[] = []

  const attempt = (idx: number, q: CompiledTask): boolean => {
    const task = work[idx]!
    const job = state.job(task.jobId)
    // Resources and ports only shrink while a plan is built, and UNIQUE, MAX_PER and CLUSTER only
    // tighten, so a request that failed fails again. GROUP_BY can loosen when its job places elsewhere.
    const f = failed.get(q.feasibilityKey)
    const cached = f !== undefined && (!q.hasGroupBy || f === job.placements)
    const node = cached ? -1 : search.select(q)
    if (indexed !== undefined && !cached) examined += indexed.examined
    hook?.(state, {task, q, node, cached})
    if (node < 0) {
      failed.set(q.feasibilityKey, job.placements)
      pending.set(idx, job.placements)
      compiledPending.set(idx, q)
      return false
    }
    const score = q.totalScore(node)
    const hostPorts = state.place(node, task)
    placements.push({taskId: task.taskId, jobId: task.jobId, nodeId: state.ids[node]!, hostPorts, score})
    placedIdx.push(idx)
    placedQ.push(q)
    pending.delete(idx)
    compiledPending.delete(idx)
    return true
  }

  for (let idx = order.next(); idx !== undefined; idx = order.next()) order.settle(idx, attempt(idx, compiler.compile(work[idx]!)))
  // A GROUP_BY task refused earlier may fit once its job has placed elsewhere: retry until nothing moves.
  for (let progress = true; progress; ) {
    progress = false
    for (const [idx, at] of [...pending]) {
      const q = compiledPending.get(idx)!
      if (q.hasGroupBy && at !== state.job(work[idx]!.jobId).placements && attempt(idx, q)) progress = true
    }
  }

  if (state.options.improve && placements.length > 1 && improve(state, search, snapshot, work, placements, placedIdx, placedQ) > 0 && pending.size > 0) {
    // Emptied nodes may take a task that found no room before (identical requests still fail fast).
    failed.clear()
    for (const [idx] of [...pending]) attempt(idx, compiledPending.get(idx)!)
  }

  const summaries = new Map<string, RejectionSummary>()
  const pendingOut: PendingTask[] = []
  for (let idx = 0; idx < work.length; idx++) {
    const task = work[idx]!
    const quota = order.refused.get(idx)
    if (quota !== undefined) {
      pendingOut.push({taskId: task.taskId, jobId: task.jobId, reason: quota.reason, counts: {}, details: [{reason: 'team-over-quota', count: 0, text: quota.reason, team: quota.team, need: quota.need, maxFree: Math.max(0, quota.quota - quota.used)}]})
      continue
    }

    if (!pending.has(idx)) continue
    const q = compiledPending.get(idx)!
    let s = summaries.get(q.feasibilityKey)
    if (s === undefined) {
      s = summarize(state, q)
      summaries.set(q.feasibilityKey, s)
    }
    pendingOut.push({taskId: task.taskId, jobId: task.jobId, reason: s.reason, counts: {...s.counts}, details: s.details.map((d) => ({...d}))})
  }
  return {plan: {placements, pending: pendingOut}, state, examined}
}

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
import type {NodeSearch} from './search.js'
import {IndexedSearch, NaiveSearch} from './search.js'
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
  const order = Array.from(work, (_, i) => i)
  if (state.options.order === 'largest-first') {
    // Stable: equal sizes keep the order of `work`, so a job's instances stay together
    // and share one compiled shape.
    const size = Float64Array.from(work, (t) => requestSize(state, t))
    order.sort((a, b) => size[b]! - size[a]!)
  }
  /** Compiled shapes of the tasks that are pending (for retries and summaries). */
  const compiledPending = new Map<number, CompiledTask>()

  /** Feasibility key -> the job's placement count when a request with that key last failed. */
  const failed = new Map<string, number>()
  /** Task index -> the job's placement count when it last failed. */
  const pending = new Map<number, number>()
  const placements: Placement[] = []

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
    pending.delete(idx)
    compiledPending.delete(idx)
    return true
  }

  for (const idx of order) attempt(idx, compiler.compile(work[idx]!))
  // A GROUP_BY task refused earlier may fit once its job has placed elsewhere: retry until nothing moves.
  for (let progress = true; progress; ) {
    progress = false
    for (const [idx, at] of [...pending]) {
      const q = compiledPending.get(idx)!
      if (q.hasGroupBy && at !== state.job(work[idx]!.jobId).placements && attempt(idx, q)) progress = true
    }
  }

  const summaries = new Map<string, RejectionSummary>()
  const pendingOut: PendingTask[] = []
  for (let idx = 0; idx < work.length; idx++) {
    if (!pending.has(idx)) continue
    const task = work[idx]!
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

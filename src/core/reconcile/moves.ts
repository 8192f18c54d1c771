/**
 * Moving running tasks to clearly better nodes (pure). A task moves when another
 * node that can take it now
 *   - opens a GROUP_BY value its job lacks, or
 *   - satisfies more of its soft preferences (`--prefer`), or
 *   - scores at least `strategyGain` higher on its job's strategy (binpack, spread)
 *     with the preferences equal,
 * judged by the scheduler's own ranking with the task taken off its current node
 * (rankNodesFor), so a move never fights the placement rules. At most `maxPerPass`
 * moves and one per job per pass; the snapshot is updated after each, so two moves
 * never count on the same free room. The reconcile pass then starts the replacement
 * and stops the old task only once the new one is ready (make-before-break).
 */
import {rankNodesFor} from '../scheduler/rank.js'
import type {Snapshot, TaskRequest} from '../scheduler/types.js'
import {addResources} from '../model/resources.js'

export interface MoveSettings {
  /** Moves started per pass, over the whole cluster. Default 2. */
  maxPerPass: number
  /** Strategy score gain (0..1) that justifies a move on its own. Default 0.25. */
  strategyGain: number
  /**
   * Running tasks examined per pass (each costs a ranking over the cluster). Tasks whose
   * node misses one of their preferences come first; the rest take turns from pass to
   * pass (rotated by the seed). Default 64: a pass over 10,000 tasks stays cheap.
   */
  maxCandidates: number
  /**
   * Consolidation: when no task has a better node, move running tasks so whole nodes
   * empty (scheduler planConsolidation), within `maxPerPass`. Off unless the cluster
   * setting `consolidate` is on (`clusterctl settings consolidate on`).
   */
  consolidate?: boolean
}

export const DEFAULT_MOVES: Readonly<MoveSettings> = Object.freeze({maxPerPass: 2, strategyGain: 0.25, maxCandidates: 64})

export interface MoveCandidate {
  request: TaskRequest
  nodeId: string
  hostPorts: readonly number[]
  /** For messages: `web.2`. */
  label: string
}

export interface PlannedMove {
  taskId: string
  jobId: string
  from: {nodeId: string; nodeName: string}
  to: {nodeId: string; nodeName: string}
  why: string
}

export function planMoves(snapshot: Snapshot, candidates: readonly MoveCandidate[], options: {seed: number; settings?: MoveSettings}): PlannedMove[] {
  const settings = options.settings ?? DEFAULT_MOVES
  const moves: PlannedMove[] = []
  const movedJobs = new Set<string>()
  let current = snapshot
  for (const c of examined(snapshot, candidates, options.seed, settings.maxCandidates)) {
    if (moves.length >= settings.maxPerPass) break
    if (movedJobs.has(c.request.jobId)) continue
    const ranking = rankNodesFor(current, c.request, {seed: options.seed, current: {nodeId: c.nodeId, hostPorts: c.hostPorts}})
    const here = ranking.current
    const best = ranking.bestOther
    if (!here || !here.feasible || !best) continue
    const now = here.node
    let why: string | null = null
    if (best.groups > now.groups) why = `${best.nodeName} adds a GROUP_BY value the job lacks`
    else if (best.groups === now.groups && best.preferences > now.preferences) why = `${best.nodeName} satisfies more of its preferences (${best.preferences} against ${now.preferences} on ${now.nodeName})`
    else if (best.groups === now.groups && best.preferences === now.preferences && best.strategy - now.strategy >= settings.strategyGain) {
      why = `${best.nodeName} fits it better (${c.request.strategy ?? 'binpack'} score ${best.strategy.toFixed(2)} against ${now.strategy.toFixed(2)} on ${now.nodeName})`
    }

    if (!why) continue
    moves.push({taskId: c.request.taskId, jobId: c.request.jobId, from: {nodeId: now.nodeId, nodeName: now.nodeName}, to: {nodeId: best.nodeId, nodeName: best.nodeName}, why})
    movedJobs.add(c.request.jobId)
    // The replacement holds room on the target while both run.
    current = {
      nodes: current.nodes.map((n) => (n.id === best.nodeId ? {...n, allocated: addResources(n.allocated, c.request.resources)} : n)),
      placed: [...current.placed, {taskId: `${c.request.taskId}:move`, jobId: c.request.jobId, nodeId: best.nodeId}],
    }
  }

  return moves
}

/** The candidates examined this pass: unmet preferences first, then a rotating window of the rest. */
function examined(snapshot: Snapshot, candidates: readonly MoveCandidate[], seed: number, max: number): MoveCandidate[] {
  if (candidates.length <= max) return [...candidates]
  const nodes = new Map(snapshot.nodes.map((n) => [n.id, n]))
  const unmet: MoveCandidate[] = []
  const rest: MoveCandidate[] = []
  for (const c of candidates) {
    const node = nodes.get(c.nodeId)
    const misses = c.request.preferences.some((p) => (p.field === 'hostname' ? node?.name : node?.labels[p.field]) !== p.value)
    ;(misses ? unmet : rest).push(c)
  }

  const start = rest.length === 0 ? 0 : Math.abs(Math.trunc(seed)) % rest.length
  return [...unmet, ...rest.slice(start), ...rest.slice(0, start)].slice(0, max)
}

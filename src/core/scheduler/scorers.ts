/**
 * Scorer plugins (Kubernetes framework "Score"). A node's rank for a task is compared
 * lexicographically, most important first:
 *
 *   1. groups       GROUP_BY values the job does not use yet (even spread before doubling up)
 *   2. preferences  sum of the weights of the task's `prefer k=v` that the node matches
 *   3. strategy     binpack or spread, a vector measure over cpus, mem, disk and gpus
 *
 * so a soft preference always wins over packing, and packing decides among equals.
 * The reported score is `1000 * groups + preferences + strategy` (strategy in 0..1).
 *
 * Two kinds of scorer, because the indexed search needs to know how to look:
 *  - a strategy scorer depends on the node's free resources; it declares a direction
 *    (`tight`: least leftover first, `loose`: most leftover first) that the free-resource
 *    index follows;
 *  - the other scorers depend on labels and per-job counters only; the search walks
 *    their levels as tiers, best tier first.
 */
import type {ClusterState, FieldCounter} from './cluster-state.js'
import type {Preference, Strategy} from './types.js'

export interface StrategyScorer {
  readonly name: Strategy
  readonly direction: 'tight' | 'loose'
  /** Larger is better. `leftover2` is the squared, normalised free vector left after placing. */
  key(leftover2: number): number
  /** The same order as `key`, mapped to 0..1 for humans. */
  score(leftover2: number, dims: number): number
}

/**
 * binpack: best fit by vector length. Leftover per dimension is normalised by the largest
 * allocatable in the cluster, so one core and one GiB weigh as fractions of a whole
 * machine; minimising |free - request|^2 = |free|^2 - 2 request·free + |request|^2 prefers
 * fuller nodes (small |free|) whose free vector points the way the request does
 * (large request·free): multi-resource alignment, not one dimension.
 */
export const binpackScorer: StrategyScorer = {
  name: 'binpack',
  direction: 'tight',
  key: (l2) => -l2,
  score: (l2, dims) => Math.max(0, 1 - Math.sqrt(l2 / dims)),
}

/** spread: the node left with the most free resources (same vector measure, maximised). */
export const spreadScorer: StrategyScorer = {
  name: 'spread',
  direction: 'loose',
  key: (l2) => l2,
  score: (l2, dims) => Math.min(1, Math.sqrt(l2 / dims)),
}

export const STRATEGIES: Readonly<Record<Strategy, StrategyScorer>> = {binpack: binpackScorer, spread: spreadScorer}

/**
 * Preference weights, sparse: only nodes that match some preference are stored, so a
 * thousand jobs each preferring a different host cost a thousand small maps, not a
 * thousand arrays over every node.
 */
export interface PreferenceScores {
  /** Nodes with a non-zero score. */
  readonly scores: ReadonlyMap<number, number>
  /** Distinct levels among ready nodes, best first; 0 (last) when some ready node matches nothing. */
  readonly tiers: readonly number[]
  /** Ready nodes per non-zero level, in seeded order. */
  readonly levels: ReadonlyMap<number, Int32Array>
}

export function preferenceSignature(prefs: readonly Preference[]): string {
  return prefs.map((p) => `${p.field}=${p.value}:${p.weight ?? 1}`).join('\u0000')
}

/** preferences: static per node, computed once per distinct preference list. */
export function preferenceScores(state: ClusterState, prefs: readonly Preference[], sig: string): PreferenceScores {
  return state.memoize(`prefs:${sig}`, () => {
    const scores = new Map<number, number>()
    for (const p of prefs) {
      const d = state.field(p.field)
      const target = d.idOf.get(p.value)
      if (target === undefined) continue
      const w = p.weight ?? 1
      for (const i of d.byValue[target]!) scores.set(i, (scores.get(i) ?? 0) + w)
    }
    const byLevel = new Map<number, number[]>()
    for (const [i, score] of scores) {
      if (state.stateCode[i] !== 0) continue
      const list = byLevel.get(score)
      if (list === undefined) byLevel.set(score, [i])
      else list.push(i)
    }
    const levels = new Map<number, Int32Array>()
    let matched = 0
    for (const [score, nodes] of byLevel) {
      matched += nodes.length
      levels.set(score, Int32Array.from(nodes).sort((a, b) => state.tieRank[a]! - state.tieRank[b]!))
    }
    const tiers = [...levels.keys()].sort((a, b) => b - a)
    if (matched < state.readyCount) tiers.push(0)
    return {scores, tiers, levels}
  })
}

/** groups: for each GROUP_BY constraint, 1 when the node's value holds no task of the job yet. */
export interface GroupCounter {
  readonly ids: Int32Array
  readonly counter: FieldCounter
}

export function newGroups(groups: readonly GroupCounter[], node: number): number {
  let g = 0
  for (let k = 0; k < groups.length; k++) {
    const x = groups[k]!
    const v = x.ids[node]!
    if (v >= 0 && x.counter.get(v) === 0) g++
  }
  return g
}

export const GROUP_WEIGHT = 1000

/**
 * The pending summary: every node counted once, under the first filter that refuses it,
 * e.g. `0/3 nodes fit: 2 insufficient mem (need 2Gi, max free 1.5Gi), 1 cordoned`.
 */
import type {ClusterState} from './cluster-state.js'
import type {CompiledTask} from './query.js'
import type {ReasonCode, RejectionDetail} from './types.js'

export interface RejectionSummary {
  /** Nodes that can take the task now (0 for a pending task). */
  fit: number
  reason: string
  counts: Partial<Record<ReasonCode, number>>
  details: RejectionDetail[]
}

export function summarize(state: ClusterState, q: CompiledTask): RejectionSummary {
  const kinds = q.rejections
  const counts = new Int32Array(kinds.length + 1)
  const maxFree = new Float64Array(kinds.length + 1).fill(-Infinity)
  for (let i = 0; i < state.n; i++) {
    const code = q.check(i)
    counts[code]!++
    if (code === 0) continue
    const free = kinds[code - 1]!.free
    if (free !== undefined) {
      const f = free(i)
      if (f > maxFree[code]!) maxFree[code] = f
    }
  }
  const order: number[] = []
  for (let code = 1; code <= kinds.length; code++) if (counts[code]! > 0) order.push(code)
  order.sort((a, b) => counts[b]! - counts[a]! || a - b)
  const details: RejectionDetail[] = order.map((code) => {
    const kind = kinds[code - 1]!
    const d: RejectionDetail = {reason: kind.reason, count: counts[code]!, text: kind.text(maxFree[code]!)}
    if (kind.need !== undefined) d.need = kind.need
    if (kind.free !== undefined) d.maxFree = Math.max(0, maxFree[code]!)
    if (kind.constraint !== undefined) d.constraint = kind.constraint
    return d
  })
  const byReason: Partial<Record<ReasonCode, number>> = {}
  for (const d of details) byReason[d.reason] = (byReason[d.reason] ?? 0) + d.count
  const fit = counts[0]!
  const head = `${fit}/${state.n} nodes fit`
  const reason = state.n === 0 ? `${head}: the cluster has no nodes` : details.length === 0 ? head : `${head}: ${details.map((d) => `${d.count} ${d.text}`).join(', ')}`
  return {fit, reason, counts: byReason, details}
}

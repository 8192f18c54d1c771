/**
 * The pending summary: every node counted once, under the first filter that refuses it,
 * e.g. `0/3 nodes fit: 2 insufficient mem (need 2Gi, max free 1.5Gi), 1 cordoned`.
 */
import type {ClusterState} from './cluster-state.js'
import {freeOf} from './filters.js'
import type {CompiledTask} from './query.js'
import type {ReasonCode, RejectionDetail} from './types.js'

export interface RejectionSummary {
  /** Nodes that can take the task now (0 for a pending task). */
  fit: number
  reason: string
  counts: Partial<Record<ReasonCode, number>>
  details: RejectionDetail[]
}

/** Ready nodes sorted by free cpu, and nodes per state, for one version of the state. */
interface PlainIndex {
  version: number
  byCpu: Int32Array
  cpu: Float64Array
  stateCounts: Int32Array
}

function plainIndex(state: ClusterState): PlainIndex {
  const cached = state.memo.get('summary:plain') as PlainIndex | undefined
  if (cached !== undefined && cached.version === state.version) return cached
  const byCpu = Int32Array.from(state.order).sort((a, b) => state.freeCpu[a]! - state.freeCpu[b]!)
  const cpu = Float64Array.from(byCpu, (i) => state.freeCpu[i]!)
  const stateCounts = new Int32Array(8)
  for (let i = 0; i < state.n; i++) stateCounts[state.stateCode[i]!]!++
  const index = {version: state.version, byCpu, cpu, stateCounts}
  state.memo.set('summary:plain', index)
  return index
}

/**
 * The same counts as the generic loop for a task without constraints, without visiting
 * every node: ready nodes short of cpu are counted by binary search over nodes sorted by
 * free cpu, and only the others are walked. A plan with thousands of distinct pending
 * requests (an overfull cluster) computes thousands of summaries.
 */
function countPlain(state: ClusterState, q: CompiledTask, counts: Int32Array, maxFree: Float64Array): void {
  const res = q.codeBase('resources')
  const ports = q.codeBase('host-ports')
  const {byCpu, cpu: sortedCpu, stateCounts} = plainIndex(state)
  for (let s = 1; s < stateCounts.length; s++) counts[s] = counts[s]! + stateCounts[s]! // node-state codes are the state codes
  let lo = 0
  let hi = sortedCpu.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sortedCpu[mid]! < q.cpu) lo = mid + 1
    else hi = mid
  }
  if (lo > 0) {
    counts[res + 1] = counts[res + 1]! + lo
    maxFree[res + 1] = sortedCpu[lo - 1]!
  }
  const {freeMem, freeDisk, freeGpu, freePorts} = state
  const {mem, disk, gpus} = q
  for (let j = lo; j < byCpu.length; j++) {
    const i = byCpu[j]!
    let code: number
    let free: number
    if (freeMem[i]! < mem) {
      code = res + 2
      free = freeMem[i]!
    } else if (freeDisk[i]! < disk) {
      code = res + 3
      free = freeDisk[i]!
    } else if (freeGpu[i]! < gpus) {
      code = res + 4
      free = freeGpu[i]!
    } else if (ports >= 0 && freePorts[i]! < q.ports) {
      code = ports + 1
      free = freePorts[i]!
    } else {
      counts[0]!++
      continue
    }
    counts[code]!++
    if (free > maxFree[code]!) maxFree[code] = free
  }
}

export function summarize(state: ClusterState, q: CompiledTask): RejectionSummary {
  const kinds = q.rejections
  const counts = new Int32Array(kinds.length + 1)
  const maxFree = new Float64Array(kinds.length + 1).fill(-Infinity)
  if (q.codeBase('constraints') < 0) countPlain(state, q, counts, maxFree)
  else {
    for (let i = 0; i < state.n; i++) {
      const code = q.check(i)
      counts[code]!++
      if (code === 0) continue
      const column = kinds[code - 1]!.column
      if (column !== undefined) {
        const f = freeOf(state, column, i)
        if (f > maxFree[code]!) maxFree[code] = f
      }
    }
  }
  const order: number[] = []
  for (let code = 1; code <= kinds.length; code++) if (counts[code]! > 0) order.push(code)
  order.sort((a, b) => counts[b]! - counts[a]! || a - b)
  const details: RejectionDetail[] = order.map((code) => {
    const kind = kinds[code - 1]!
    const d: RejectionDetail = {reason: kind.reason, count: counts[code]!, text: kind.text(maxFree[code]!)}
    if (kind.need !== undefined) d.need = kind.need
    if (kind.column !== undefined) d.maxFree = Math.max(0, maxFree[code]!)
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

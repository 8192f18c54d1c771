/**
 * Node selection: given the state and a compiled task, which node takes it (-1: none can).
 *
 *  - NaiveSearch scans every node: all filters, all scorers, best lexicographic score,
 *    ties to the seeded order. O(nodes) per task. The reference, and the benchmark baseline.
 *  - IndexedSearch walks tiers (GROUP_BY groups, then preference levels, best first) and,
 *    inside a tier, a candidate source: a short node list scanned in full, or a FreeGrid
 *    searched best-first from the request's cell. It scores up to `candidates` feasible
 *    nodes per tier and stops early when no unseen cell can beat the best so far.
 *    Feasibility is exact: a tier is given up only after every node the index holds in
 *    cells that can fit the request has been checked, so it never leaves a task pending
 *    that the full scan could place in the same state.
 */
import type {ClusterState, FieldDict} from './cluster-state.js'
import type {FreeGrid} from './grid.js'
import {bucket, CellColumn, FreeGrid as Grid, GRID, highEdge, lowEdge} from './grid.js'
import type {CompiledTask} from './query.js'

export interface NodeSearch {
  select(q: CompiledTask): number
}

export class NaiveSearch implements NodeSearch {
  constructor(private readonly state: ClusterState) {}

  select(q: CompiledTask): number {
    const {n, tieRank, freeCpu, freeMem} = this.state
    const {cpu, mem} = q
    let best = -1
    let bestG = 0
    let bestP = 0
    let bestK = 0
    for (let i = 0; i < n; i++) {
      // The same cheap pre-check as the indexed scans (a node short of cpu or mem fails check() anyway).
      if (freeCpu[i]! < cpu || freeMem[i]! < mem) continue
      if (q.check(i) !== 0) continue
      const g = q.groupScore(i)
      const p = q.prefScore(i)
      const k = q.strategyKey(i)
      if (best < 0 || g > bestG || (g === bestG && (p > bestP || (p === bestP && (k > bestK || (k === bestK && tieRank[i]! < tieRank[best]!)))))) {
        best = i
        bestG = g
        bestP = p
        bestK = k
      }
    }
    return best
  }
}

/** Node lists this short are scanned in full rather than given their own grid. */
const LIST_MAX = 256
/** At most this many per-subset grids; beyond, the main grid is searched with a membership mask. */
const MAX_GRIDS = 48

interface Pin {
  dict: FieldDict
  value: number
}

type Source = {list: Int32Array; grid?: undefined; member?: undefined} | {list?: undefined; grid: FreeGrid; member: Uint8Array | undefined}

export class IndexedSearch implements NodeSearch {
  private readonly column: CellColumn
  private readonly main: FreeGrid
  private readonly mainSource: Source
  private readonly sources = new Map<string, Source>()
  private grids = 0
  // A tiny binary heap of grid cells, reused by every search (at most one entry per row).
  private readonly heapKey = new Float64Array(GRID)
  private readonly heapCell = new Int32Array(GRID)
  private heapSize = 0
  /** Nodes examined by the last select (for tests and the benchmark). */
  examined = 0

  constructor(private readonly state: ClusterState) {
    this.column = new CellColumn(state)
    state.listeners.push(this.column)
    this.main = new Grid(state, this.column, state.order)
    this.mainSource = {grid: this.main, member: undefined}
    state.listeners.push(this.main)
  }

  select(q: CompiledTask): number {
    this.examined = 0
    let pinKey = ''
    let pins: Pin[] | undefined
    for (const pin of q.pins) {
      const v = pin.counter.clusterValue()
      if (v === -2) return -1 // the job already spans several values: no node can satisfy CLUSTER
      if (v >= 0) {
        pins ??= []
        pins.push({dict: pin.dict, value: v})
        pinKey += `\u0001${pin.dict.field}=${v}`
      }
    }
    let gMax = 0
    for (const g of q.groups) if (g.counter.unusedReady > 0) gMax++
    const tiers = q.prefs === undefined ? ZERO_TIER : q.prefs.tiers
    for (let g = gMax; g >= 0; g--) {
      for (let t = 0; t < tiers.length; t++) {
        // The last preference level needs no subset of its own: the higher levels were just
        // searched and hold nothing that fits, so the preference-free source gives the same
        // answer, and it is shared by every preference list (e.g. "prefer my previous host").
        const p = t === tiers.length - 1 ? undefined : tiers[t]!
        const src = this.source(q, p, pins, pinKey)
        const node = src.list !== undefined ? this.scanList(src.list, q, g) : this.scanGrid(src.grid, src.member, q, g)
        if (node >= 0) return node
      }
    }
    return -1
  }

  /** The nodes that pass the task's label constraints and CLUSTER pins, and sit on preference level p (any level: undefined). */
  private source(q: CompiledTask, p: number | undefined, pins: Pin[] | undefined, pinKey: string): Source {
    if (q.mask === undefined && p === undefined && pins === undefined && q.gpus === 0) return this.mainSource
    if (pins === undefined) q.sources ??= new Map<number, Source>()
    const local = pins === undefined ? (q.sources as Map<number | undefined, Source>) : undefined
    let src = local?.get(p)
    if (src !== undefined) return src
    const key = p === undefined ? `${q.constraintSig}\u0002*\u0002${pinKey}\u0002${q.gpus}` : `${q.constraintSig}\u0002${q.prefSig}\u0002${p}\u0002${pinKey}\u0002${q.gpus}`
    src = this.sources.get(key)
    if (src !== undefined) {
      local?.set(p, src)
      return src
    }
    const s = this.state
    // Start from the smallest list that holds every member.
    const level = p === undefined ? undefined : q.prefs?.levels.get(p)
    const pinned = pins === undefined ? undefined : pins[0]!.dict.byValue[pins[0]!.value]!
    const base = level !== undefined && (pinned === undefined || level.length <= pinned.length) ? level : (pinned ?? s.order)
    const members: number[] = []
    for (let j = 0; j < base.length; j++) {
      const i = base[j]!
      if (s.stateCode[i] !== 0) continue
      if (s.capGpu[i]! < q.gpus) continue // GPUs are not a grid dimension: GPU tasks look at GPU machines only
      if (q.mask !== undefined && q.mask[i] !== 0) continue
      if (p !== undefined && q.prefScore(i) !== p) continue
      if (pins !== undefined && !pins.every((pin) => pin.dict.ids[i] === pin.value)) continue
      members.push(i)
    }
    if (members.length === s.readyCount) src = {grid: this.main, member: undefined}
    else if (members.length <= LIST_MAX) src = {list: Int32Array.from(members)}
    else if (this.grids < MAX_GRIDS) {
      const grid = new Grid(s, this.column, members)
      s.listenFor(grid, members)
      this.grids++
      src = {grid, member: undefined}
    } else {
      const member = new Uint8Array(s.n)
      for (const i of members) member[i] = 1
      src = {grid: this.main, member}
    }
    this.sources.set(key, src)
    local?.set(p, src)
    return src
  }

  private scanList(list: Int32Array, q: CompiledTask, g: number): number {
    const grouped = q.hasGroupBy
    let best = -1
    let bestK = 0
    for (let j = 0; j < list.length; j++) {
      const i = list[j]!
      this.examined++
      if (q.checkReady(i) !== 0) continue
      if (grouped && q.groupScore(i) !== g) continue
      const k = q.strategyKey(i)
      if (best < 0 || k > bestK) {
        best = i
        bestK = k
      }
    }
    return best
  }

  private scanGrid(grid: FreeGrid, member: Uint8Array | undefined, q: CompiledTask, g: number): number {
    return q.strategy.direction === 'tight' ? this.scanTight(grid, member, q, g) : this.scanLoose(grid, member, q, g)
  }

  /**
   * Best fit: cells in increasing order of the least leftover they can hold (a lower bound
   * on |free - request|^2 from the cell's lower corner), rows below the request skipped.
   */
  private scanTight(grid: FreeGrid, member: Uint8Array | undefined, q: CompiledTask, g: number): number {
    const K = this.state.options.candidates
    const grouped = q.hasGroupBy
    const {head, next} = grid
    const {freeCpu, freeMem} = this.state
    const {cpu, mem} = q
    const rx = bucket(q.rx)
    const ry = bucket(q.ry)
    this.heapSize = 0
    for (let x = rx; x < GRID; x++) {
      const y = grid.firstAtOrAfter(x, ry)
      if (y >= 0) this.push(tightBound(x, y, q), x * GRID + y)
    }
    let best = -1
    let bestL2 = Infinity
    let found = 0
    while (this.heapSize > 0 && found < K) {
      if (this.heapKey[0]! >= bestL2) break
      const cell = this.pop()
      for (let i = head[cell]!; i !== -1; i = next[i]!) {
        this.examined++
        if (freeCpu[i]! < cpu || freeMem[i]! < mem) continue
        if (member !== undefined && member[i] === 0) continue
        if (q.checkReady(i) !== 0) continue
        if (grouped && q.groupScore(i) !== g) continue
        const l2 = q.leftover2(i)
        if (l2 < bestL2) {
          bestL2 = l2
          best = i
        }
        if (++found >= K) break
      }
      const x = (cell / GRID) | 0
      const y = grid.firstAtOrAfter(x, cell - x * GRID + 1)
      if (y >= 0) this.push(tightBound(x, y, q), x * GRID + y)
    }
    return best
  }

  /**
   * Most free: cells in decreasing order of the most leftover they can hold (upper corner),
   * each walked from its tail, where the least recently used nodes are.
   */
  private scanLoose(grid: FreeGrid, member: Uint8Array | undefined, q: CompiledTask, g: number): number {
    const K = this.state.options.candidates
    const grouped = q.hasGroupBy
    const {tail, prev} = grid
    const {freeCpu, freeMem} = this.state
    const {cpu, mem} = q
    const extra = this.state.dims - 2 // disk and gpus can add at most 1 each to the normalised leftover
    const rx = bucket(q.rx)
    const ry = bucket(q.ry)
    this.heapSize = 0
    for (let x = GRID - 1; x >= rx; x--) {
      const y = grid.lastAtOrBefore(x, GRID - 1, ry)
      if (y >= 0) this.push(-looseBound(x, y, q, extra), x * GRID + y)
    }
    let best = -1
    let bestL2 = -Infinity
    let found = 0
    while (this.heapSize > 0 && found < K) {
      if (-this.heapKey[0]! <= bestL2) break
      const cell = this.pop()
      for (let i = tail[cell]!; i !== -1; i = prev[i]!) {
        this.examined++
        if (freeCpu[i]! < cpu || freeMem[i]! < mem) continue
        if (member !== undefined && member[i] === 0) continue
        if (q.checkReady(i) !== 0) continue
        if (grouped && q.groupScore(i) !== g) continue
        const l2 = q.leftover2(i)
        if (l2 > bestL2) {
          bestL2 = l2
          best = i
        }
        if (++found >= K) break
      }
      const x = (cell / GRID) | 0
      const y = grid.lastAtOrBefore(x, cell - x * GRID - 1, ry)
      if (y >= 0) this.push(-looseBound(x, y, q, extra), x * GRID + y)
    }
    return best
  }

  private push(key: number, cell: number): void {
    const hk = this.heapKey
    const hc = this.heapCell
    let i = this.heapSize++
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (hk[parent]! <= key) break
      hk[i] = hk[parent]!
      hc[i] = hc[parent]!
      i = parent
    }
    hk[i] = key
    hc[i] = cell
  }

  private pop(): number {
    const hk = this.heapKey
    const hc = this.heapCell
    const top = hc[0]!
    const size = --this.heapSize
    if (size > 0) {
      const key = hk[size]!
      const cell = hc[size]!
      let i = 0
      for (;;) {
        let c = 2 * i + 1
        if (c >= size) break
        if (c + 1 < size && hk[c + 1]! < hk[c]!) c++
        if (hk[c]! >= key) break
        hk[i] = hk[c]!
        hc[i] = hc[c]!
        i = c
      }
      hk[i] = key
      hc[i] = cell
    }
    return top
  }
}

const ZERO_TIER: readonly number[] = [0]

function tightBound(x: number, y: number, q: CompiledTask): number {
  const dx = Math.max(0, lowEdge(x) - q.rx)
  const dy = Math.max(0, lowEdge(y) - q.ry)
  return dx * dx + dy * dy
}

function looseBound(x: number, y: number, q: CompiledTask, extra: number): number {
  const dx = highEdge(x) - q.rx
  const dy = highEdge(y) - q.ry
  return dx * dx + dy * dy + extra
}

/**
 * Local improvement after the greedy step: try to empty the nodes this plan opened by
 * moving their new tasks into the room of others (the dominance-style local search for
 * bin packing of Levine and Ducatelle, 2004, on vector sizes).
 *
 * A round lifts the tasks of the `width` least-filled opened nodes into a pool, then
 * visits the other opened nodes, least filled first, and wherever it makes a node fuller
 * (the sum of its used dimensions, each a fraction of the largest machine) swaps 1 or 2
 * of the node's tasks for 1 or 2 of the pool's; the pool then goes back through the
 * ordinary node search, largest first. A round that uses fewer nodes, or as many but
 * swapped something (fuller nodes: the next round builds on them), is kept and starts
 * again at width 1; any other is undone and the next round lifts one node more. Nodes
 * used never grow.
 *
 * Only tasks of this plan move (nothing runs yet), and only those whose placement
 * depends on nothing a move changes: binpack, no UNIQUE, MAX_PER, CLUSTER or GROUP_BY
 * (their counters only grow), onto a node whose preference score is at least the one it
 * had. Every move goes through the task's compiled filters (node state, label
 * constraints, resources, host ports). Only nodes empty in the snapshot are emptied.
 *
 * The work is counted, not timed (the scheduler reads no clock): at most WORK_PER_TASK
 * evaluated swaps and examined nodes per task of the plan, so the cost is proportional
 * to the batch and the plan is the same on every machine.
 */
import type {ClusterState} from './cluster-state.js'
import type {CompiledTask} from './query.js'
import type {Rng} from './random.js'
import {mulberry32, seed32} from './random.js'
import type {NodeSearch} from './search.js'
import type {TaskRequest} from './types.js'

/** Work units (swap evaluations, nodes visited) per task of the plan... */
export const WORK_PER_TASK = 200
/** ...and at least this many for any plan (a few milliseconds): small batches are where a node saved counts most. */
export const MIN_WORK = 5_000_000

export function workBudget(tasks: number): number {
  return Math.max(MIN_WORK, WORK_PER_TASK * tasks)
}
/** At most this many of the least-filled nodes are lifted into the pool at once. */
const MAX_WIDTH = 8
/** Nodes visited for swaps per round (the least filled: they have the room). */
const MAX_RECEIVERS = 256
/** Pairs from the pool are formed among its largest tasks only. */
const MAX_POOL_PAIRS = 32
/** Rounds in a row without progress before the search gives up. */
const MAX_STALE = 200
/** What a round costs at least (its bookkeeping). */
const ROUND_WORK = 256
const EPS = 1e-9

export interface Movable {
  readonly task: TaskRequest
  readonly q: CompiledTask
  /** Node index, updated as the search moves the task. */
  node: number
  hostPorts: number[]
}

/** Whether the local search may move a task of the plan (see the file comment). */
export function isMovable(q: CompiledTask): boolean {
  return q.strategy.name === 'binpack' && !q.dynamic
}

/**
 * Improves the movable tasks' placement in `state` (updating each Movable's node and
 * ports). `emptyAtStart[i]` is 1 for nodes that held nothing before the plan. Returns
 * the work spent and how many nodes it emptied.
 */
export function improvePlacement(state: ClusterState, search: NodeSearch, movables: readonly Movable[], emptyAtStart: Uint8Array, budget: number): {work: number; freed: number} {
  return new LocalSearch(state, search, movables, emptyAtStart).run(budget)
}

class LocalSearch {
  private readonly m: number
  private readonly cpu: Float64Array
  private readonly mem: Float64Array
  private readonly disk: Float64Array
  private readonly gpu: Float64Array
  /** Each task's size: the sum of its dimensions as fractions of the largest machine. */
  private readonly load: Float64Array
  /** Preference score each task had after the greedy step: a move may not lower it. */
  private readonly prefAt: Float64Array
  /** Movable tasks per node. */
  private readonly on = new Map<number, number[]>()
  /** Sum of `load` of the movable tasks on each node. */
  private readonly nodeLoad: Float64Array
  /** Nodes empty at the start that also hold something that cannot move: never emptied. */
  private readonly fixed = new Set<number>()
  /** Every move kept so far, to undo a round or the whole search: task, and the node it left (-1: it was placed). */
  private journal: Array<[number, number]> = []
  private work = 0
  private readonly rng: Rng

  constructor(
    private readonly s: ClusterState,
    private readonly search: NodeSearch,
    private readonly movables: readonly Movable[],
    private readonly emptyAtStart: Uint8Array,
  ) {
    const m = movables.length
    this.m = m
    this.rng = mulberry32(seed32(s.options.seed))
    const res = (f: (t: TaskRequest) => number) => Float64Array.from(movables, (x) => f(x.task))
    this.cpu = res((t) => t.resources.cpuMilli)
    this.mem = res((t) => t.resources.memBytes)
    this.disk = res((t) => t.resources.diskBytes)
    this.gpu = res((t) => t.resources.gpus)
    this.load = Float64Array.from(movables, (_, k) => this.cpu[k]! / s.scaleCpu + this.mem[k]! / s.scaleMem + (s.scaleDisk > 0 ? this.disk[k]! / s.scaleDisk : 0) + (s.scaleGpu > 0 ? this.gpu[k]! / s.scaleGpu : 0))
    this.prefAt = Float64Array.from(movables, (x) => x.q.prefScore(x.node))
    this.nodeLoad = new Float64Array(s.n)
    for (let k = 0; k < m; k++) this.index(k, movables[k]!.node)
    for (const [node, list] of this.on) {
      if (emptyAtStart[node] !== 1) continue
      let c = 0
      let mm = 0
      let d = 0
      let g = 0
      for (const k of list) {
        c += this.cpu[k]!
        mm += this.mem[k]!
        d += this.disk[k]!
        g += this.gpu[k]!
      }
      if (s.capCpu[node]! - s.freeCpu[node]! !== c || s.capMem[node]! - s.freeMem[node]! !== mm || s.capDisk[node]! - s.freeDisk[node]! !== d || s.capGpu[node]! - s.freeGpu[node]! !== g) this.fixed.add(node)
    }
  }

  run(budget: number): {work: number; freed: number} {
    if (this.m === 0) return {work: 0, freed: 0}
    const first = this.used()
    let best = first
    let width = 1
    let stale = 0
    while (this.work < budget) {
      const open = this.opened()
      if (open.length < 2 || stale > MAX_STALE) break
      this.work += ROUND_WORK
      if (width > open.length || width > MAX_WIDTH) width = 2
      const mark = this.journal.length
      // The least filled nodes; past the first rounds, the least filled one and others drawn at random (seeded).
      const victims = new Set(open.slice(0, width))
      if (stale > MAX_WIDTH) {
        victims.clear()
        victims.add(open[0]!)
        while (victims.size < width) victims.add(open[Math.floor(this.rng() * open.length)]!)
      }
      const pool: number[] = []
      for (const v of victims) pool.push(...this.on.get(v)!)
      for (const k of pool) this.unplace(k)
      pool.sort((a, b) => this.load[b]! - this.load[a]!)
      const swapped = this.swapInto(
        open.filter((n) => !victims.has(n)).slice(0, MAX_RECEIVERS),
        pool,
        budget,
      )
      const lost = !this.reinsert(pool)
      const now = lost ? Infinity : this.used()
      if (now < best || (now === best && swapped)) {
        if (now < best) {
          width = 1
          stale = 0
        }
        best = now
      } else {
        this.undo(mark)
        width++
        stale++
      }
    }
    // No node saved: back to the greedy plan exactly (as many nodes but different ones would only move tasks for nothing).
    if (best === first) this.undo(0)
    return {work: this.work, freed: first - best}
  }

  /** Opened nodes that may be emptied, least filled first. */
  private opened(): number[] {
    const out: number[] = []
    for (const [node, list] of this.on) if (list.length > 0 && this.emptyAtStart[node] === 1 && !this.fixed.has(node)) out.push(node)
    // Collecting and sorting is real work too: a round on a big cluster costs its n log n.
    this.work += out.length * (1 + Math.ceil(Math.log2(out.length + 1)))
    const {nodeLoad, s} = this
    return out.sort((a, b) => nodeLoad[a]! - nodeLoad[b]! || s.tieRank[a]! - s.tieRank[b]!)
  }

  /** Nodes used among those empty at the start: what the search minimises. */
  private used(): number {
    let c = 0
    for (const [node, list] of this.on) if (this.emptyAtStart[node] === 1 && (list.length > 0 || this.fixed.has(node))) c++
    return c
  }

  /** The swap phase: each receiver, as long as a swap with the pool makes it fuller. Returns whether anything was swapped. */
  private swapInto(receivers: readonly number[], pool: number[], budget: number): boolean {
    let swapped = false
    for (let progress = true; progress && pool.length > 0 && this.work < budget; ) {
      progress = false
      for (const node of receivers) {
        while (pool.length > 0 && this.work < budget && this.trySwap(node, pool)) progress = swapped = true
      }
    }
    return swapped
  }

  /** The swap of 1-2 of the node's tasks for 1-2 of the pool's that fills the node most; false when none fills it. */
  private trySwap(node: number, pool: number[]): boolean {
    const {s, cpu, mem, disk, gpu, load} = this
    const mine = this.on.get(node)!
    const fc = s.freeCpu[node]!
    const fm = s.freeMem[node]!
    const fd = s.freeDisk[node]!
    const fg = s.freeGpu[node]!
    let bestGain = EPS
    let g1 = -1
    let g2 = -1
    let t1 = -1
    let t2 = -1
    const a = mine.length
    const b = pool.length
    const bPairs = Math.min(b, MAX_POOL_PAIRS)
    for (let i = 0; i < a; i++) {
      for (let i2 = i; i2 < a; i2++) {
        const x = mine[i]!
        const y = i2 === i ? -1 : mine[i2]!
        const gc = fc + cpu[x]! + (y < 0 ? 0 : cpu[y]!)
        const gm = fm + mem[x]! + (y < 0 ? 0 : mem[y]!)
        const gd = fd + disk[x]! + (y < 0 ? 0 : disk[y]!)
        const gg = fg + gpu[x]! + (y < 0 ? 0 : gpu[y]!)
        const out = load[x]! + (y < 0 ? 0 : load[y]!)
        this.work += b
        for (let j = 0; j < b; j++) {
          const p = pool[j]!
          if (load[p]! - out > bestGain && cpu[p]! <= gc && mem[p]! <= gm && disk[p]! <= gd && gpu[p]! <= gg) {
            bestGain = load[p]! - out
            ;[g1, g2, t1, t2] = [x, y, p, -1]
          }
          if (j >= bPairs) continue
          this.work += bPairs - j
          for (let j2 = j + 1; j2 < bPairs; j2++) {
            const p2 = pool[j2]!
            const gain = load[p]! + load[p2]! - out
            if (gain > bestGain && cpu[p]! + cpu[p2]! <= gc && mem[p]! + mem[p2]! <= gm && disk[p]! + disk[p2]! <= gd && gpu[p]! + gpu[p2]! <= gg) {
              bestGain = gain
              ;[g1, g2, t1, t2] = [x, y, p, p2]
            }
          }
        }
      }
    }
    if (g1 < 0) return false
    const give = g2 < 0 ? [g1] : [g1, g2]
    const take = t2 < 0 ? [t1] : [t1, t2]
    const mark = this.journal.length
    // Resources fit by arithmetic; constraints, ports and preferences are checked on the way in.
    for (const k of give) this.unplace(k)
    for (const k of take) {
      if (!this.fits(k, node)) {
        this.undo(mark)
        return false
      }
      this.put(k, node)
    }
    for (const k of take) pool.splice(pool.indexOf(k), 1)
    for (const k of give) insertSorted(pool, k, load)
    return true
  }

  /** The pool back through the scheduler's own node search, largest first. False when some task finds no node. */
  private reinsert(pool: readonly number[]): boolean {
    for (const k of pool) {
      const x = this.movables[k]!
      const node = this.search.select(x.q)
      this.work += 64
      if (node < 0 || x.q.prefScore(node) < this.prefAt[k]!) return false
      this.put(k, node)
    }
    return true
  }

  private fits(k: number, node: number): boolean {
    const x = this.movables[k]!
    return x.q.check(node) === 0 && x.q.prefScore(node) >= this.prefAt[k]!
  }

  private index(k: number, node: number): void {
    let list = this.on.get(node)
    if (list === undefined) this.on.set(node, (list = []))
    list.push(k)
    this.nodeLoad[node] = this.nodeLoad[node]! + this.load[k]!
  }

  private unplace(k: number): void {
    const x = this.movables[k]!
    const node = x.node
    this.s.release(node, x.task.resources, x.hostPorts)
    this.s.forget(node, x.task.jobId)
    const list = this.on.get(node)!
    list.splice(list.indexOf(k), 1)
    this.nodeLoad[node] = this.nodeLoad[node]! - this.load[k]!
    x.node = -1
    x.hostPorts = []
    this.journal.push([k, node])
  }

  private put(k: number, node: number): void {
    const s = this.s
    // A node that holds only tasks that may not move joins the fixed ones when it first takes a movable one.
    if (!this.on.has(node) && this.emptyAtStart[node] === 1 && (s.freeCpu[node] !== s.capCpu[node] || s.freeMem[node] !== s.capMem[node] || s.freeDisk[node] !== s.capDisk[node] || s.freeGpu[node] !== s.capGpu[node])) this.fixed.add(node)
    const x = this.movables[k]!
    x.hostPorts = s.place(node, x.task, false)
    x.node = node
    this.index(k, node)
    this.journal.push([k, -1])
  }

  /** Undoes the journal back to `mark`. */
  private undo(mark: number): void {
    const entries = this.journal.splice(mark)
    for (let e = entries.length - 1; e >= 0; e--) {
      const [k, from] = entries[e]!
      if (from < 0) this.unplace(k)
      else this.put(k, from)
    }
    this.journal.length = mark
  }
}

/** Inserts k into a list sorted by decreasing load. */
function insertSorted(list: number[], k: number, load: Float64Array): void {
  let i = 0
  while (i < list.length && load[list[i]!]! >= load[k]!) i++
  list.splice(i, 0, k)
}

/**
 * The free-resource index: ready nodes bucketed on a 64 x 64 grid by free cpu (rows) and
 * free mem (columns), each normalised by the cluster's largest allocatable. Bucket
 * edges are geometric (each about 12 % wider than the one below, from 1/1024 of a
 * machine up to a whole one), so nearly full nodes are told apart finely and a request
 * skips whole rows of nodes that cannot hold it. (A 32 x 32 grid examined twice as many
 * nodes per task on the benchmark: most refusals happen in the cells that straddle the
 * request, and narrower cells hold fewer such nodes.)
 *
 * Each cell is a doubly linked list threaded through per-node Int32Arrays (no per-node
 * objects); a node moves to the head of its new cell when a placement changes its free
 * resources (O(1)), so the head of a cell is the most recently used node and the tail the
 * least. A bit mask per row (two 32-bit words) says which cells are non-empty.
 */
import type {ClusterState, NodeListener} from './cluster-state.js'

export const GRID = 64
/** 32-bit words per row mask. */
export const WORDS = GRID / 32
const SPAN = 10 // bucket 1 starts at 2^-SPAN of the largest machine

/** EDGES[k] = lower edge of bucket k (k >= 1); bucket 0 holds everything below EDGES[1], negatives included. */
export const EDGES: Float64Array = (() => {
  const e = new Float64Array(GRID + 1)
  e[0] = -Infinity
  for (let k = 1; k < GRID; k++) e[k] = 2 ** (((k - (GRID - 1)) * SPAN) / (GRID - 2))
  e[GRID] = Infinity
  return e
})()

/** Lower edge of bucket k clamped at 0 (the least free a node in it can have). */
export function lowEdge(k: number): number {
  return k === 0 ? 0 : EDGES[k]!
}

/** Upper edge of bucket k (free never exceeds the largest machine, so the top bucket ends at 1). */
export function highEdge(k: number): number {
  return k === GRID - 1 ? 1 : EDGES[k + 1]!
}

export function bucket(x: number): number {
  if (!(x >= EDGES[1]!)) return 0
  if (x >= 1) return GRID - 1
  let k = Math.floor((Math.log2(x) * (GRID - 2)) / SPAN) + GRID - 1
  if (k < 1) k = 1
  if (k > GRID - 1) k = GRID - 1
  while (k > 1 && x < EDGES[k]!) k--
  while (k < GRID - 1 && x >= EDGES[k + 1]!) k++
  return k
}

/**
 * Every node's current cell, recomputed once per change and read by every grid
 * (a node can sit in the main grid and in several subset grids).
 */
export class CellColumn implements NodeListener {
  readonly cell: Int32Array

  constructor(private readonly state: ClusterState) {
    this.cell = new Int32Array(state.n)
    for (let i = 0; i < state.n; i++) this.update(i)
  }

  update(node: number): void {
    this.cell[node] = bucket(this.state.freeCpu[node]! / this.state.scaleCpu) * GRID + bucket(this.state.freeMem[node]! / this.state.scaleMem)
  }
}

export class FreeGrid implements NodeListener {
  readonly head = new Int32Array(GRID * GRID).fill(-1)
  readonly tail = new Int32Array(GRID * GRID).fill(-1)
  /** Bit y of row x (word x * WORDS + (y >> 5)) is set when cell (x, y) holds a node. */
  readonly rowMask = new Uint32Array(GRID * WORDS)
  readonly next: Int32Array
  readonly prev: Int32Array
  /** Cell of each member node, -1 for nodes outside this index. */
  readonly cellOf: Int32Array
  size = 0

  private readonly cells: Int32Array

  /** `column` must hear about a node before this grid does. */
  constructor(state: ClusterState, column: CellColumn, members: ArrayLike<number>) {
    const n = state.n
    this.cells = column.cell
    this.next = new Int32Array(n)
    this.prev = new Int32Array(n)
    this.cellOf = new Int32Array(n).fill(-1)
    // Members arrive in seeded order; appending keeps that order inside each cell.
    for (let j = 0; j < members.length; j++) {
      const node = members[j]!
      this.link(node, this.cells[node]!, false)
    }
  }

  /** The first non-empty cell column >= y in row x, or -1. */
  firstAtOrAfter(x: number, y: number): number {
    if (y >= GRID) return -1
    let w = y >> 5
    let m = (this.rowMask[x * WORDS + w]! & (0xffffffff << (y & 31))) >>> 0
    while (m === 0) {
      if (++w === WORDS) return -1
      m = this.rowMask[x * WORDS + w]!
    }
    return w * 32 + (31 - Math.clz32(m & -m))
  }

  /** The last non-empty cell column in yMin..y of row x, or -1. */
  lastAtOrBefore(x: number, y: number, yMin: number): number {
    if (y < yMin) return -1
    let w = y >> 5
    const top = y & 31
    let m = (this.rowMask[x * WORDS + w]! & (top === 31 ? 0xffffffff : (1 << (top + 1)) - 1)) >>> 0
    for (;;) {
      if (m !== 0) {
        const found = w * 32 + (31 - Math.clz32(m))
        return found >= yMin ? found : -1
      }
      if (--w < 0 || w * 32 + 31 < yMin) return -1
      m = this.rowMask[x * WORDS + w]!
    }
  }

  has(node: number): boolean {
    return this.cellOf[node] !== -1
  }

  update(node: number): void {
    if (this.cellOf[node] === -1) return
    this.unlink(node)
    this.link(node, this.cells[node]!, true)
  }

  private link(node: number, cell: number, atHead: boolean): void {
    const h = this.head[cell]!
    this.cellOf[node] = cell
    this.size++
    if (h === -1) {
      this.head[cell] = node
      this.tail[cell] = node
      this.next[node] = -1
      this.prev[node] = -1
      const x = (cell / GRID) | 0
      const y = cell - x * GRID
      const w = x * WORDS + (y >> 5)
      this.rowMask[w] = (this.rowMask[w]! | (1 << (y & 31))) >>> 0
    } else if (atHead) {
      this.next[node] = h
      this.prev[node] = -1
      this.prev[h] = node
      this.head[cell] = node
    } else {
      const t = this.tail[cell]!
      this.prev[node] = t
      this.next[node] = -1
      this.next[t] = node
      this.tail[cell] = node
    }
  }

  private unlink(node: number): void {
    const cell = this.cellOf[node]!
    const p = this.prev[node]!
    const nx = this.next[node]!
    if (p === -1) this.head[cell] = nx
    else this.next[p] = nx
    if (nx === -1) this.tail[cell] = p
    else this.prev[nx] = p
    this.cellOf[node] = -1
    this.size--
    if (this.head[cell] === -1) {
      const x = (cell / GRID) | 0
      const y = cell - x * GRID
      const w = x * WORDS + (y >> 5)
      this.rowMask[w] = (this.rowMask[w]! & ~(1 << (y & 31))) >>> 0
    }
  }
}

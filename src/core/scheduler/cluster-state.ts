/**
 * The scheduler's working copy of a snapshot: one typed-array column per node property,
 * so filters and scorers read numbers by node index without allocating. Built once per
 * `schedule()` call and mutated only by `place()` while the plan is built; the caller's
 * snapshot is never touched.
 */
import {BugError} from '../errors.js'
import type {Resources} from '../model/resources.js'
import {DEFAULT_PORT_RANGE, HOSTNAME_FIELD, validatePortRange} from './constraints.js'
import {seededPermutation} from './random.js'
import {NODE_STATES} from '../model/node.js'
import type {NodeState, ScheduleOptions, Snapshot, Strategy, TaskRequest} from './types.js'

/** Each node state's code: its place in NODE_STATES (ready = 0). */
export const STATE_CODE = Object.fromEntries(NODE_STATES.map((state, i) => [state, i])) as Readonly<Record<NodeState, number>>
/** The code of a ready node that a health condition keeps new work off (`blockedBy`): after every state's. */
export const CONDITION_CODE = NODE_STATES.length

export interface ResolvedOptions {
  seed: number
  portFrom: number
  portTo: number
  defaultStrategy: Strategy
  order: 'largest-first' | 'as-given'
  candidates: number
  improve: boolean
}

export function resolveOptions(o: ScheduleOptions): ResolvedOptions {
  const range = validatePortRange(o.portRange ?? DEFAULT_PORT_RANGE, 'port range')
  const candidates = o.candidates ?? 8
  if (!Number.isInteger(candidates) || candidates < 1) throw new BugError(`scheduler candidates must be a whole number >= 1, got ${candidates}`)
  return {
    seed: o.seed,
    portFrom: range.from,
    portTo: range.to,
    defaultStrategy: o.defaultStrategy ?? 'binpack',
    order: o.order ?? 'largest-first',
    candidates,
    improve: o.improve ?? true,
  }
}

/** The values of one field (a label, or `hostname`) interned to small integers per node. */
export interface FieldDict {
  readonly field: string
  /** Value id per node, -1 when the node lacks the field. */
  readonly ids: Int32Array
  readonly values: readonly string[]
  readonly idOf: ReadonlyMap<string, number>
  /** 1 when some ready node carries the value. */
  readonly onReady: Uint8Array
  readonly readyDistinct: number
  /** Nodes per value id, in seeded order. */
  readonly byValue: readonly Int32Array[]
}

/**
 * How many of one job's tasks sit on each value of one field: the incremental state
 * behind UNIQUE, MAX_PER, CLUSTER and GROUP_BY. Counts only grow while a plan is built.
 */
export class FieldCounter {
  private readonly dense: Int32Array | undefined
  private readonly sparse: Map<number, number> | undefined
  /** Tasks on nodes that lack the field. */
  missing = 0
  total = 0
  /** Distinct values holding at least one task. */
  used = 0
  /** The smallest count among used values (0 when none is used). */
  minUsed = 0
  /** Values on ready nodes that hold no task yet. */
  unusedReady: number
  /** The first value that received a task (-1 when none). */
  first = -1
  private readonly hist = new Map<number, number>()

  constructor(readonly dict: FieldDict) {
    if (dict.values.length <= 4096) this.dense = new Int32Array(dict.values.length)
    else this.sparse = new Map()
    this.unusedReady = dict.readyDistinct
  }

  get(v: number): number {
    return this.dense !== undefined ? this.dense[v]! : (this.sparse!.get(v) ?? 0)
  }

  add(v: number): void {
    this.total++
    if (v < 0) {
      this.missing++
      return
    }
    const c = this.get(v)
    if (this.dense !== undefined) this.dense[v] = c + 1
    else this.sparse!.set(v, c + 1)
    if (c === 0) {
      if (this.first < 0) this.first = v
      this.used++
      if (this.dict.onReady[v] === 1) this.unusedReady--
      this.hist.set(1, (this.hist.get(1) ?? 0) + 1)
      this.minUsed = 1
    } else {
      const left = this.hist.get(c)! - 1
      if (left === 0) this.hist.delete(c)
      else this.hist.set(c, left)
      this.hist.set(c + 1, (this.hist.get(c + 1) ?? 0) + 1)
      if (c === this.minUsed && left === 0) this.minUsed = c + 1
    }
  }

  /** The one value every task of the job shares (CLUSTER), -1 when none yet, -2 when they disagree. */
  clusterValue(): number {
    if (this.total === 0) return -1
    if (this.missing > 0 || this.used !== 1) return -2
    return this.first
  }
}

export class JobState {
  /** Node index of every task of the job: the snapshot's, then the plan's. */
  readonly nodes: number[] = []
  /** Per-field counters, created when a constraint first needs one. */
  counters: Map<string, FieldCounter> | undefined
  /** Placements made for this job in the current plan. */
  placements = 0
}

/** Something that must hear about every change of a node's free resources (an index). */
export interface NodeListener {
  update(node: number): void
}

export class ClusterState {
  readonly n: number
  readonly ids: readonly string[]
  readonly names: readonly string[]
  readonly index = new Map<string, number>()
  readonly stateCode: Uint8Array
  readonly capCpu: Float64Array
  readonly capMem: Float64Array
  readonly capDisk: Float64Array
  readonly capGpu: Float64Array
  readonly freeCpu: Float64Array
  readonly freeMem: Float64Array
  readonly freeDisk: Float64Array
  readonly freeGpu: Float64Array
  /** Per-dimension normalisation: the largest allocatable among ready nodes (>= 1 for cpu and mem). */
  readonly scaleCpu: number
  readonly scaleMem: number
  readonly scaleDisk: number
  readonly scaleGpu: number
  /** Dimensions that enter vector scores: cpu and mem always, disk and gpus when some ready node has them. */
  readonly dims: number
  /** Ready nodes in seeded order: the order in which equally good nodes are tried. */
  readonly order: Int32Array
  /** Position of each node in `order` (the tie-break rank). */
  readonly tieRank: Int32Array
  readonly readyCount: number
  readonly portFrom: number
  readonly portTo: number
  /** Free ports per node: those of its port space (nodes that share a host share one). */
  readonly freePorts: Int32Array
  /** Port space of each node; nodes with the same `host` share one. */
  private readonly spaceOf: Int32Array
  /** Nodes of each port space. */
  private readonly spaceNodes: number[][] = []
  private readonly portBits: Array<Uint8Array | undefined>
  private readonly portCursor: Int32Array
  private readonly fields = new Map<string, FieldDict>()
  private readonly jobs = new Map<string, JobState>()
  /** Indexes that hold every ready node. */
  readonly listeners: NodeListener[] = []
  /** Indexes that hold only some nodes, listed per member node. */
  private readonly partial: Array<NodeListener[] | undefined>
  /** Bumped by every change of free resources or ports (for caches of derived data). */
  version = 0
  /** Memo for derived per-node data (static masks, preference scores, node subsets). */
  readonly memo = new Map<string, unknown>()

  constructor(
    readonly snapshot: Snapshot,
    readonly options: ResolvedOptions,
    /** Leave this task out of the job counters (a task being re-ranked against its own node). */
    excludeTaskId?: string,
  ) {
    const nodes = snapshot.nodes
    const n = nodes.length
    this.n = n
    this.ids = nodes.map((x) => x.id)
    this.names = nodes.map((x) => x.name)
    this.stateCode = new Uint8Array(n)
    this.capCpu = new Float64Array(n)
    this.capMem = new Float64Array(n)
    this.capDisk = new Float64Array(n)
    this.capGpu = new Float64Array(n)
    this.freeCpu = new Float64Array(n)
    this.freeMem = new Float64Array(n)
    this.freeDisk = new Float64Array(n)
    this.freeGpu = new Float64Array(n)
    this.freePorts = new Int32Array(n)
    this.spaceOf = new Int32Array(n)
    const spaces = new Map<string, number>()
    for (let i = 0; i < n; i++) {
      const host = nodes[i]!.host
      let space = host === undefined ? undefined : spaces.get(host)
      if (space === undefined) {
        space = this.spaceNodes.length
        this.spaceNodes.push([])
        if (host !== undefined) spaces.set(host, space)
      }
      this.spaceOf[i] = space
      this.spaceNodes[space]!.push(i)
    }
    this.portBits = new Array<Uint8Array | undefined>(this.spaceNodes.length)
    this.portCursor = new Int32Array(this.spaceNodes.length)
    this.partial = new Array<NodeListener[] | undefined>(n)
    this.portFrom = options.portFrom
    this.portTo = options.portTo
    const portCount = options.portTo - options.portFrom + 1
    let sCpu = 0
    let sMem = 0
    let sDisk = 0
    let sGpu = 0
    let ready = 0
    for (let i = 0; i < n; i++) {
      const node = nodes[i]!
      if (this.index.has(node.id)) throw new BugError(`snapshot lists node id ${node.id} twice`)
      this.index.set(node.id, i)
      const stated = STATE_CODE[node.state]
      if (stated === undefined) throw new BugError(`node ${node.name} has unknown state ${String(node.state)}`)
      const code = stated === 0 && node.blockedBy !== undefined ? CONDITION_CODE : stated
      this.stateCode[i] = code
      const a = node.allocatable
      const u = node.allocated
      this.capCpu[i] = a.cpuMilli
      this.capMem[i] = a.memBytes
      this.capDisk[i] = a.diskBytes
      this.capGpu[i] = a.gpus
      this.freeCpu[i] = a.cpuMilli - u.cpuMilli
      this.freeMem[i] = a.memBytes - u.memBytes
      this.freeDisk[i] = a.diskBytes - u.diskBytes
      this.freeGpu[i] = a.gpus - u.gpus
      if (code === 0) {
        ready++
        if (a.cpuMilli > sCpu) sCpu = a.cpuMilli
        if (a.memBytes > sMem) sMem = a.memBytes
        if (a.diskBytes > sDisk) sDisk = a.diskBytes
        if (a.gpus > sGpu) sGpu = a.gpus
      }
      // Used ports of nodes that share a host add up in their one space.
      const space = this.spaceOf[i]!
      for (const p of node.usedPorts) {
        if (p < options.portFrom || p > options.portTo) continue
        const bits = (this.portBits[space] ??= new Uint8Array(portCount))
        bits[p - options.portFrom] = 1
      }
    }
    for (let space = 0; space < this.spaceNodes.length; space++) {
      const bits = this.portBits[space]
      let free = portCount
      if (bits !== undefined) for (let p = 0; p < portCount; p++) free -= bits[p]!
      for (const i of this.spaceNodes[space]!) this.freePorts[i] = free
    }
    this.readyCount = ready
    this.scaleCpu = Math.max(1, sCpu)
    this.scaleMem = Math.max(1, sMem)
    this.scaleDisk = sDisk
    this.scaleGpu = sGpu
    this.dims = 2 + (sDisk > 0 ? 1 : 0) + (sGpu > 0 ? 1 : 0)

    // Seeded order of ready nodes (the tie-break), non-ready nodes after them.
    const perm = seededPermutation(n, options.seed)
    this.order = new Int32Array(ready)
    this.tieRank = new Int32Array(n)
    let k = 0
    for (let j = 0; j < n; j++) {
      const i = perm[j]!
      if (this.stateCode[i] === 0) this.order[k++] = i
    }
    for (let j = 0; j < ready; j++) this.tieRank[this.order[j]!] = j
    let rest = ready
    for (let j = 0; j < n; j++) {
      const i = perm[j]!
      if (this.stateCode[i] !== 0) this.tieRank[i] = rest++
    }

    for (const t of snapshot.placed) {
      if (t.taskId === excludeTaskId) continue
      const i = this.index.get(t.nodeId)
      if (i === undefined) continue // a task on a node the snapshot no longer lists: it constrains nothing here
      this.job(t.jobId).nodes.push(i)
    }
  }

  job(jobId: string): JobState {
    let j = this.jobs.get(jobId)
    if (j === undefined) {
      j = new JobState()
      this.jobs.set(jobId, j)
    }
    return j
  }

  field(name: string): FieldDict {
    let d = this.fields.get(name)
    if (d === undefined) {
      d = this.buildField(name)
      this.fields.set(name, d)
    }
    return d
  }

  /** The job's per-value task counts for one field, built on first use from the job's tasks so far. */
  counter(jobId: string, field: string): FieldCounter {
    const job = this.job(jobId)
    job.counters ??= new Map()
    let c = job.counters.get(field)
    if (c === undefined) {
      c = new FieldCounter(this.field(field))
      for (const node of job.nodes) c.add(c.dict.ids[node]!)
      job.counters.set(field, c)
    }
    return c
  }

  private buildField(name: string): FieldDict {
    const n = this.n
    const ids = new Int32Array(n)
    const values: string[] = []
    const seen = new Map<string, number>()
    const nodes = this.snapshot.nodes
    for (let i = 0; i < n; i++) {
      const node = nodes[i]!
      const v = name === HOSTNAME_FIELD ? node.name : labelValue(node.labels, name)
      if (v === undefined) {
        ids[i] = -1
        continue
      }
      let id = seen.get(v)
      if (id === undefined) {
        id = values.length
        values.push(v)
        seen.set(v, id)
      }
      ids[i] = id
    }
    const onReady = new Uint8Array(values.length)
    const sizes = new Int32Array(values.length)
    let readyDistinct = 0
    for (let i = 0; i < n; i++) {
      const v = ids[i]!
      if (v < 0) continue
      sizes[v]!++
      if (this.stateCode[i] === 0 && onReady[v] === 0) {
        onReady[v] = 1
        readyDistinct++
      }
    }
    const byValue = Array.from(sizes, (s) => new Int32Array(s))
    const fill = new Int32Array(values.length)
    const visit = (i: number) => {
      const v = ids[i]!
      if (v >= 0) byValue[v]![fill[v]!++] = i
    }
    for (let j = 0; j < n; j++) visit(this.byRank(j))
    return {field: name, ids, values, idOf: seen, onReady, readyDistinct, byValue}
  }

  /** The node with tie rank j (ready nodes first). */
  private byRankCache: Int32Array | undefined
  byRank(j: number): number {
    if (this.byRankCache === undefined) {
      const r = new Int32Array(this.n)
      for (let i = 0; i < this.n; i++) r[this.tieRank[i]!] = i
      this.byRankCache = r
    }
    return this.byRankCache[j]!
  }

  /**
   * Commits a placement to the working copy and returns the host ports chosen. `decided`
   * false: a task of the plan moved by the local search (not a new placement of its job).
   */
  place(node: number, task: TaskRequest, decided = true): number[] {
    const r = task.resources
    this.freeCpu[node] = this.freeCpu[node]! - r.cpuMilli
    this.freeMem[node] = this.freeMem[node]! - r.memBytes
    this.freeDisk[node] = this.freeDisk[node]! - r.diskBytes
    this.freeGpu[node] = this.freeGpu[node]! - r.gpus
    const ports = task.ports > 0 ? this.takePorts(node, task.ports) : []
    const job = this.job(task.jobId)
    job.nodes.push(node)
    if (decided) job.placements++
    if (job.counters !== undefined) for (const c of job.counters.values()) c.add(c.dict.ids[node]!)
    this.notify(node)
    return ports
  }

  /** Registers an index over a subset of nodes: it hears about those nodes only. */
  listenFor(listener: NodeListener, members: ArrayLike<number>): void {
    for (let j = 0; j < members.length; j++) {
      const i = members[j]!
      const list = this.partial[i]
      if (list === undefined) this.partial[i] = [listener]
      else list.push(listener)
    }
  }

  private notify(node: number): void {
    this.version++
    for (const l of this.listeners) l.update(node)
    const list = this.partial[node]
    if (list !== undefined) for (const l of list) l.update(node)
  }

  /** Takes one of the job's tasks off a node's entry in its task list (a plan's task being moved; no counters involved). */
  forget(node: number, jobId: string): void {
    const job = this.job(jobId)
    if (job.counters !== undefined) throw new BugError(`job ${jobId} has constraint counters: its tasks cannot move within a plan`)
    const at = job.nodes.lastIndexOf(node)
    if (at >= 0) job.nodes.splice(at, 1)
  }

  /** Gives a task's resources and ports back to a node (re-ranking a task that runs there). */
  release(node: number, r: Resources, ports: readonly number[]): void {
    this.freeCpu[node] = this.freeCpu[node]! + r.cpuMilli
    this.freeMem[node] = this.freeMem[node]! + r.memBytes
    this.freeDisk[node] = this.freeDisk[node]! + r.diskBytes
    this.freeGpu[node] = this.freeGpu[node]! + r.gpus
    const space = this.spaceOf[node]!
    const bits = this.portBits[space]
    for (const p of ports) {
      if (bits === undefined || p < this.portFrom || p > this.portTo || bits[p - this.portFrom] === 0) continue
      bits[p - this.portFrom] = 0
      for (const i of this.spaceNodes[space]!) this.freePorts[i] = this.freePorts[i]! + 1
    }
    this.notify(node)
  }

  /**
   * Lowest free ports from the port space's cursor upward (wrapping), so a plan never hands
   * out a port twice on one host, whichever of its node names the task goes to.
   */
  private takePorts(node: number, count: number): number[] {
    const size = this.portTo - this.portFrom + 1
    if (this.freePorts[node]! < count) throw new BugError(`node ${this.names[node]} has ${this.freePorts[node]} free ports, ${count} asked`)
    const space = this.spaceOf[node]!
    const bits = (this.portBits[space] ??= new Uint8Array(size))
    const out: number[] = []
    let p = this.portCursor[space]!
    while (out.length < count) {
      if (bits[p] === 0) {
        bits[p] = 1
        out.push(this.portFrom + p)
      }
      p = p + 1 === size ? 0 : p + 1
    }
    this.portCursor[space] = p
    for (const i of this.spaceNodes[space]!) this.freePorts[i] = this.freePorts[i]! - count
    return out
  }

  memoize<T>(key: string, build: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T
    const v = build()
    this.memo.set(key, v)
    return v
  }
}

export function labelValue(labels: Readonly<Record<string, string>>, field: string): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(labels, field)) return undefined
  const v = labels[field]
  return typeof v === 'string' ? v : undefined
}

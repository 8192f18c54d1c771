/**
 * Compiles a TaskRequest into a CompiledTask: the filter plugins' checks and the scorer
 * plugins' inputs bound to one request shape. Tasks that share a shape (a job's
 * instances: same resources, ports, constraints, preferences, strategy) share one
 * CompiledTask, so the per-task cost of a 100-instance job is paid once.
 */
import {BugError} from '../errors.js'
import type {ClusterState, FieldCounter, FieldDict} from './cluster-state.js'
import {validateConstraint, validatePreference} from './constraints.js'
import type {CompiledFilter, RejectionKind} from './filters.js'
import {constraintSignature, FILTERS, isStaticOperator, staticMask} from './filters.js'
import type {GroupCounter, PreferenceScores, StrategyScorer} from './scorers.js'
import {GROUP_WEIGHT, newGroups, preferenceScores, preferenceSignature, STRATEGIES} from './scorers.js'
import type {Constraint, Preference, Strategy, TaskRequest} from './types.js'

interface ConstraintSet {
  readonly list: readonly Constraint[]
  readonly sig: string
  /** Depends on the job's other tasks (UNIQUE, MAX_PER, CLUSTER, GROUP_BY). */
  readonly dynamic: boolean
}

interface PreferenceSet {
  readonly list: readonly Preference[]
  readonly sig: string
}

export interface ClusterPin {
  readonly dict: FieldDict
  readonly counter: FieldCounter
}

export class CompiledTask {
  readonly cpu: number
  readonly mem: number
  readonly disk: number
  readonly gpus: number
  readonly ports: number
  /** cpu and mem as fractions of the largest machine: the request's position on the grid. */
  readonly rx: number
  readonly ry: number
  /** See requestSize(). */
  readonly size: number
  readonly strategy: StrategyScorer
  readonly constraints: readonly Constraint[]
  readonly constraintSig: string
  readonly mask: Uint16Array | undefined
  readonly prefs: PreferenceScores | undefined
  readonly prefSig: string
  readonly groups: readonly GroupCounter[]
  /** CLUSTER constraints: once the job has a task, every candidate shares its value. */
  readonly pins: readonly ClusterPin[]
  readonly hasGroupBy: boolean
  /** Some constraint depends on the job's other tasks (UNIQUE, MAX_PER, CLUSTER, GROUP_BY). */
  readonly dynamic: boolean
  /** Everything that decides feasibility (not preferences or strategy): tasks with equal keys fit the same nodes. */
  readonly feasibilityKey: string
  readonly filters: readonly CompiledFilter[]
  private explained: readonly RejectionKind[] | undefined
  /** Candidate sources per preference level, owned by the indexed search. */
  sources: Map<number | undefined, unknown> | undefined
  private readonly bases: readonly number[]
  /** The filters after node-state, for indexes that only ever hold ready nodes. */
  private readonly readyFilters: readonly CompiledFilter[]
  private readonly readyBases: readonly number[]

  constructor(
    private readonly state: ClusterState,
    task: TaskRequest,
    cs: ConstraintSet,
    ps: PreferenceSet,
    strategy: Strategy,
    feasibilityKey: string,
  ) {
    const r = task.resources
    this.cpu = r.cpuMilli
    this.mem = r.memBytes
    this.disk = r.diskBytes
    this.gpus = r.gpus
    this.ports = task.ports
    this.rx = r.cpuMilli / state.scaleCpu
    this.ry = r.memBytes / state.scaleMem
    this.size = requestSize(state, task)
    this.strategy = STRATEGIES[strategy]
    this.constraints = cs.list
    this.constraintSig = cs.sig
    this.feasibilityKey = feasibilityKey
    this.prefSig = ps.sig
    this.prefs = ps.list.length > 0 ? preferenceScores(state, ps.list, ps.sig) : undefined
    this.mask = cs.list.length > 0 ? staticMask(state, cs.list, cs.sig) : undefined
    this.groups = cs.list
      .filter((c) => c.operator === 'GROUP_BY')
      .map((c) => ({ids: state.field(c.field).ids, counter: state.counter(task.jobId, c.field)}))
    this.hasGroupBy = this.groups.length > 0
    this.dynamic = cs.dynamic
    this.pins = cs.list
      .filter((c) => c.operator === 'CLUSTER')
      .map((c) => ({dict: state.field(c.field), counter: state.counter(task.jobId, c.field)}))

    const filters: CompiledFilter[] = []
    for (const plugin of FILTERS) {
      const f = plugin.compile(state, task, cs.list)
      if (f !== undefined) filters.push(f)
    }
    this.filters = filters
    // Plain arrays, not typed ones: a task shape is compiled per distinct request, and many
    // small ArrayBuffers cost more in garbage collection than they save.
    const bases: number[] = []
    let base = 0
    for (const f of filters) {
      bases.push(base)
      base += f.codes
    }
    this.bases = bases
    const skip = filters[0]?.name === 'node-state' ? 1 : 0
    this.readyFilters = filters.slice(skip)
    this.readyBases = this.bases.slice(skip)
  }

  /** The first code of the named filter (its code k is base + k), or -1 when the task does not use it. */
  codeBase(filter: string): number {
    const k = this.filters.findIndex((f) => f.name === filter)
    return k < 0 ? -1 : this.bases[k]!
  }

  /** rejections[code - 1] explains check() === code. */
  get rejections(): readonly RejectionKind[] {
    this.explained ??= this.filters.flatMap((f) => f.explain())
    return this.explained
  }

  /** 0 when the node can take the task now, else the rejection code (see `rejections`). */
  check(node: number): number {
    const filters = this.filters
    for (let k = 0; k < filters.length; k++) {
      const r = filters[k]!.check(node)
      if (r !== 0) return this.bases[k]! + r
    }
    return 0
  }

  /** check() for a node known to be ready (the indexes hold ready nodes only). */
  checkReady(node: number): number {
    const filters = this.readyFilters
    for (let k = 0; k < filters.length; k++) {
      const r = filters[k]!.check(node)
      if (r !== 0) return this.readyBases[k]! + r
    }
    return 0
  }

  /** |free - request|^2, each dimension normalised by the cluster's largest allocatable. */
  leftover2(node: number): number {
    const s = this.state
    const dc = (s.freeCpu[node]! - this.cpu) / s.scaleCpu
    const dm = (s.freeMem[node]! - this.mem) / s.scaleMem
    let l2 = dc * dc + dm * dm
    if (s.scaleDisk > 0) {
      const dd = (s.freeDisk[node]! - this.disk) / s.scaleDisk
      l2 += dd * dd
    }
    if (s.scaleGpu > 0) {
      const dg = (s.freeGpu[node]! - this.gpus) / s.scaleGpu
      l2 += dg * dg
    }
    return l2
  }

  strategyKey(node: number): number {
    return this.strategy.key(this.leftover2(node))
  }

  strategyScore(node: number): number {
    return this.strategy.score(this.leftover2(node), this.state.dims)
  }

  prefScore(node: number): number {
    return this.prefs === undefined ? 0 : (this.prefs.scores.get(node) ?? 0)
  }

  groupScore(node: number): number {
    return this.groups.length === 0 ? 0 : newGroups(this.groups, node)
  }

  totalScore(node: number): number {
    return GROUP_WEIGHT * this.groupScore(node) + this.prefScore(node) + this.strategyScore(node)
  }

  /** Lexicographic comparison of two feasible nodes: > 0 when a ranks above b (ties: 0). */
  compare(a: number, b: number): number {
    const g = this.groupScore(a) - this.groupScore(b)
    if (g !== 0) return g
    const p = this.prefScore(a) - this.prefScore(b)
    if (p !== 0) return p
    return this.strategyKey(a) - this.strategyKey(b)
  }
}

const NO_CONSTRAINTS: ConstraintSet = {list: [], sig: '', dynamic: false}
const NO_PREFERENCES: PreferenceSet = {list: [], sig: ''}

export class Compiler {
  // Keyed by the raw text of the list, not by array identity: callers often build a fresh
  // array per task, and a WeakMap with an entry per task is costly for the garbage collector.
  private readonly constraintSets = new Map<string, ConstraintSet>()
  private readonly preferenceSets = new Map<string, PreferenceSet>()
  private readonly compiled = new Map<string, CompiledTask>()
  private last: {task: TaskRequest; q: CompiledTask} | undefined

  constructor(readonly state: ClusterState) {}

  compile(task: TaskRequest): CompiledTask {
    // Consecutive instances of one job usually share everything: skip the key.
    const last = this.last
    if (last !== undefined && sameShape(last.task, task)) return last.q
    const q = this.compileKeyed(task)
    this.last = {task, q}
    return q
  }

  private compileKeyed(task: TaskRequest): CompiledTask {
    validateRequest(task)
    const cs = this.constraintSet(task.constraints)
    const ps = this.preferenceSet(task.preferences)
    const strategy = task.strategy ?? this.state.options.defaultStrategy
    if (STRATEGIES[strategy] === undefined) throw new BugError(`task ${task.taskId} has unknown strategy ${String(strategy)}`)
    const r = task.resources
    const feasibilityKey = `${cs.dynamic ? task.jobId : ''}\u0001${r.cpuMilli},${r.memBytes},${r.diskBytes},${r.gpus},${task.ports}\u0001${cs.sig}`
    const key = `${feasibilityKey}\u0001${ps.sig}\u0001${strategy}`
    let q = this.compiled.get(key)
    if (q === undefined) {
      q = new CompiledTask(this.state, task, cs, ps, strategy, feasibilityKey)
      // Bounded: a workload of all-different requests must not keep every compiled shape alive.
      if (this.compiled.size >= 4096) this.compiled.clear()
      this.compiled.set(key, q)
    }
    return q
  }

  private constraintSet(list: readonly Constraint[]): ConstraintSet {
    if (list.length === 0) return NO_CONSTRAINTS
    const raw = list.map((c) => `${c.field}\u0001${c.operator}\u0001${c.value ?? ''}\u0001${c.because ?? ''}`).join('\u0000')
    let cs = this.constraintSets.get(raw)
    if (cs === undefined) {
      // `because` (a constraint clusterctl added) rides along for the refusal's text
      const valid = list.map((c) => (c.because ? {...validateConstraint(c, 'constraint'), because: c.because} : validateConstraint(c, 'constraint')))
      cs = {list: valid, sig: constraintSignature(valid), dynamic: valid.some((c) => !isStaticOperator(c.operator))}
      this.constraintSets.set(raw, cs)
    }
    return cs
  }

  private preferenceSet(list: readonly Preference[]): PreferenceSet {
    if (list.length === 0) return NO_PREFERENCES
    const raw = list.map((p) => `${p.field}\u0001${p.value}\u0001${p.weight ?? ''}`).join('\u0000')
    let ps = this.preferenceSets.get(raw)
    if (ps === undefined) {
      const valid = list.map((p) => validatePreference(p, 'preference'))
      ps = {list: valid, sig: preferenceSignature(valid)}
      this.preferenceSets.set(raw, ps)
    }
    return ps
  }
}

/**
 * Length of the request vector, each dimension a fraction of the largest machine: the
 * largest-first order. (The L2 length beat the sum and the max on the benchmark's mixes:
 * it keeps cpu-heavy and mem-heavy tasks interleaved instead of placing one kind first.)
 */
export function requestSize(state: ClusterState, task: TaskRequest): number {
  const r = task.resources
  const c = r.cpuMilli / state.scaleCpu
  const m = r.memBytes / state.scaleMem
  const d = state.scaleDisk > 0 ? r.diskBytes / state.scaleDisk : 0
  const g = state.scaleGpu > 0 ? r.gpus / state.scaleGpu : r.gpus
  return Math.sqrt(c * c + m * m + d * d + g * g)
}

function sameShape(a: TaskRequest, b: TaskRequest): boolean {
  const x = a.resources
  const y = b.resources
  return (
    a.jobId === b.jobId &&
    a.constraints === b.constraints &&
    a.preferences === b.preferences &&
    a.strategy === b.strategy &&
    a.ports === b.ports &&
    x.cpuMilli === y.cpuMilli &&
    x.memBytes === y.memBytes &&
    x.diskBytes === y.diskBytes &&
    x.gpus === y.gpus
  )
}

function validateRequest(task: TaskRequest): void {
  const r = task.resources
  const ok = (v: number) => Number.isSafeInteger(v) && v >= 0
  if (!ok(r.cpuMilli) || !ok(r.memBytes) || !ok(r.diskBytes) || !ok(r.gpus) || !ok(task.ports)) {
    throw new BugError(
      `task ${task.taskId} asks for cpuMilli=${r.cpuMilli} memBytes=${r.memBytes} diskBytes=${r.diskBytes} gpus=${r.gpus} ports=${task.ports}; each must be a whole number >= 0`,
    )
  }
}

/**
 * Filter plugins (Kubernetes framework "Filter", Nomad "FeasibilityChecker"): each one
 * answers "can this node take this task?" and, when not, says why with a reason code.
 *
 * A plugin compiles a task once into a CompiledFilter whose `check(node)` reads the
 * state's typed arrays and allocates nothing. `check` returns 0 when the node passes,
 * or k >= 1 meaning `explain()[k - 1]`. A node is refused by the first filter that
 * fails, in FILTERS order, which is also how pending summaries count nodes.
 *
 * Compiled filters and rejection kinds are small classes rather than closures: a plan
 * over all-different requests compiles one per task, and methods on a prototype cost
 * nothing per instance (closures do, especially under tsx, which names each one).
 */
import {NODE_STATES} from '../model/node.js'
import {formatBytes, formatCpu} from '../model/resources.js'
import type {ClusterState, FieldCounter, FieldDict} from './cluster-state.js'
import {formatConstraint, fullMatchRegex, HOSTNAME_FIELD} from './constraints.js'
import type {Constraint, ReasonCode, TaskRequest} from './types.js'

/** A state column that holds a node's free amount of something. */
export type FreeColumn = 'cpu' | 'mem' | 'disk' | 'gpus' | 'ports'

export function freeOf(state: ClusterState, column: FreeColumn, node: number): number {
  switch (column) {
    case 'cpu':
      return state.freeCpu[node]!
    case 'mem':
      return state.freeMem[node]!
    case 'disk':
      return state.freeDisk[node]!
    case 'gpus':
      return state.freeGpu[node]!
    case 'ports':
      return state.freePorts[node]!
  }
}

export interface RejectionKind {
  readonly reason: ReasonCode
  /**
   * Human text without the count. `maxFree` is the most any refusing node has free of
   * `column` (resource and port reasons); `oneNode` words it for a single node.
   */
  text(maxFree: number, oneNode?: boolean): string
  /** Resource and port reasons: where the free amount is, and how much was asked. */
  readonly column?: FreeColumn
  readonly need?: number
  /** Constraint reasons: the constraint as written. */
  readonly constraint?: string
}

export interface CompiledFilter {
  readonly name: string
  check(node: number): number
  /** How many codes check() can return (1..codes). */
  readonly codes: number
  /** What check() codes 1..codes mean; built only when someone asks (summaries, rankings). */
  explain(): readonly RejectionKind[]
}

export interface FilterPlugin {
  readonly name: string
  readonly reasons: readonly ReasonCode[]
  /** Prepares the per-task check; undefined when the task gives this filter nothing to check. */
  compile(state: ClusterState, task: TaskRequest, constraints: readonly Constraint[]): CompiledFilter | undefined
}

class StateRejection implements RejectionKind {
  readonly reason: ReasonCode
  constructor(private readonly state: string) {
    this.reason = `node-${state}` as ReasonCode
  }
  text(): string {
    return this.state
  }
}

/** A ready node that a health condition keeps new work off (CONDITION_CODE). */
class ConditionRejection implements RejectionKind {
  readonly reason: ReasonCode = 'node-condition'
  text(_maxFree: number, oneNode?: boolean): string {
    return oneNode ? 'has a health condition (clusterctl node doctor)' : 'with a health condition (clusterctl node doctor)'
  }
}

/** One rejection per state but `ready`, in STATE_CODE order (code 1 = the first), then the health condition's (CONDITION_CODE). */
const STATE_REJECTIONS: readonly RejectionKind[] = [...NODE_STATES.filter((s) => s !== 'ready').map((s) => new StateRejection(s)), new ConditionRejection()]

class NodeStateCheck implements CompiledFilter {
  readonly name = 'node-state'
  readonly codes = STATE_REJECTIONS.length
  constructor(private readonly stateCode: Uint8Array) {}
  /** The state codes are the rejection codes (ready = 0). */
  check(node: number): number {
    return this.stateCode[node]!
  }
  explain(): readonly RejectionKind[] {
    return STATE_REJECTIONS
  }
}

/** Only ready nodes take new work. */
export const nodeStateFilter: FilterPlugin = {
  name: 'node-state',
  reasons: STATE_REJECTIONS.map((r) => r.reason),
  compile(state) {
    return state.memoize('filter:node-state', () => new NodeStateCheck(state.stateCode))
  },
}

function formatCount(v: number): string {
  return String(v)
}

const FORMAT: Record<FreeColumn, (v: number) => string> = {cpu: formatCpu, mem: formatBytes, disk: formatBytes, gpus: formatCount, ports: formatCount}

class AmountRejection implements RejectionKind {
  constructor(
    readonly reason: ReasonCode,
    readonly column: FreeColumn,
    readonly need: number,
    private readonly what: string,
  ) {}
  text(maxFree: number, oneNode?: boolean): string {
    const f = FORMAT[this.column]
    return `${this.what} (need ${f(this.need)}, ${oneNode === true ? 'free' : 'max free'} ${f(Math.max(0, maxFree))})`
  }
}

class ResourceCheck implements CompiledFilter {
  readonly name = 'resources'
  readonly codes = 4
  private readonly fc: Float64Array
  private readonly fm: Float64Array
  private readonly fd: Float64Array
  private readonly fg: Float64Array
  constructor(
    state: ClusterState,
    private readonly cpu: number,
    private readonly mem: number,
    private readonly disk: number,
    private readonly gpus: number,
  ) {
    this.fc = state.freeCpu
    this.fm = state.freeMem
    this.fd = state.freeDisk
    this.fg = state.freeGpu
  }
  check(i: number): number {
    return this.fc[i]! < this.cpu ? 1 : this.fm[i]! < this.mem ? 2 : this.fd[i]! < this.disk ? 3 : this.fg[i]! < this.gpus ? 4 : 0
  }
  explain(): readonly RejectionKind[] {
    return [
      new AmountRejection('insufficient-cpu', 'cpu', this.cpu, 'insufficient cpus'),
      new AmountRejection('insufficient-mem', 'mem', this.mem, 'insufficient mem'),
      new AmountRejection('insufficient-disk', 'disk', this.disk, 'insufficient disk'),
      new AmountRejection('insufficient-gpus', 'gpus', this.gpus, 'insufficient gpus'),
    ]
  }
}

/** cpus, mem, disk and gpus: allocated + plan <= allocatable in every dimension. */
export const resourcesFilter: FilterPlugin = {
  name: 'resources',
  reasons: ['insufficient-cpu', 'insufficient-mem', 'insufficient-disk', 'insufficient-gpus'],
  compile(state, task) {
    const r = task.resources
    return new ResourceCheck(state, r.cpuMilli, r.memBytes, r.diskBytes, r.gpus)
  },
}

class PortCheck implements CompiledFilter {
  readonly name = 'host-ports'
  readonly codes = 1
  private readonly free: Int32Array
  constructor(
    private readonly state: ClusterState,
    private readonly need: number,
  ) {
    this.free = state.freePorts
  }
  check(i: number): number {
    return this.free[i]! < this.need ? 1 : 0
  }
  explain(): readonly RejectionKind[] {
    return [new AmountRejection('insufficient-ports', 'ports', this.need, `too few free host ports in ${this.state.portFrom}-${this.state.portTo}`)]
  }
}

/** Enough free host ports in the range (snapshot's used ports plus those this plan handed out). */
export const hostPortsFilter: FilterPlugin = {
  name: 'host-ports',
  reasons: ['insufficient-ports'],
  compile(state, task) {
    return task.ports > 0 ? new PortCheck(state, task.ports) : undefined
  },
}

const OPERATOR_REASON: Record<Constraint['operator'], ReasonCode> = {
  UNIQUE: 'constraint-unique',
  CLUSTER: 'constraint-cluster',
  GROUP_BY: 'constraint-group-by',
  LIKE: 'constraint-like',
  UNLIKE: 'constraint-unlike',
  MAX_PER: 'constraint-max-per',
  IS: 'constraint-is',
}

/** Operators whose answer depends only on the node's labels (precomputed once per constraint set). */
export function isStaticOperator(op: Constraint['operator']): boolean {
  return op === 'IS' || op === 'LIKE' || op === 'UNLIKE'
}

/**
 * The label-only part of a constraint list, evaluated once per distinct list into a
 * per-node code: 0 passes, 2k+1 = constraint k refuses the value, 2k+2 = the node lacks
 * field k (Marathon: only UNLIKE accepts a node without the field).
 */
export function staticMask(state: ClusterState, constraints: readonly Constraint[], sig: string): Uint16Array {
  return state.memoize(`mask:${sig}`, () => {
    const parts = constraints.map((c) => {
      const d = state.field(c.field)
      const ok = new Uint8Array(d.values.length)
      const re = c.operator === 'LIKE' || c.operator === 'UNLIKE' ? fullMatchRegex(c.value ?? '') : undefined
      for (let v = 0; v < d.values.length; v++) {
        const value = d.values[v]!
        let pass: boolean
        switch (c.operator) {
          case 'IS':
            pass = value === c.value
            break
          case 'LIKE':
            pass = re!.test(value)
            break
          case 'UNLIKE':
            pass = !re!.test(value)
            break
          case 'CLUSTER':
            pass = c.value === undefined || value === c.value
            break
          default:
            pass = true
        }
        ok[v] = pass ? 1 : 0
      }
      return {ids: d.ids, ok, missingOk: c.operator === 'UNLIKE'}
    })
    const mask = new Uint16Array(state.n)
    for (let i = 0; i < state.n; i++) {
      for (let k = 0; k < parts.length; k++) {
        const p = parts[k]!
        const v = p.ids[i]!
        if (v < 0) {
          if (!p.missingOk) {
            mask[i] = 2 * k + 2
            break
          }
        } else if (p.ok[v] === 0) {
          mask[i] = 2 * k + 1
          break
        }
      }
    }
    return mask
  })
}

const OP_UNIQUE = 1
const OP_MAX_PER = 2
const OP_CLUSTER = 3
const OP_GROUP_BY = 4

interface DynamicCheck {
  op: number
  ids: Int32Array
  counter: FieldCounter
  limit: number
  code: number
}

class ConstraintRejection implements RejectionKind {
  readonly reason: ReasonCode
  readonly constraint: string
  constructor(
    private readonly c: Constraint,
    private readonly missing: boolean,
    private readonly dict: FieldDict,
    private readonly counter: FieldCounter | undefined,
  ) {
    this.reason = missing ? 'constraint-missing-field' : OPERATOR_REASON[c.operator]
    this.constraint = formatConstraint(c)
  }
  text(): string {
    return this.missing ? `lack label ${this.c.field} (${this.constraint})` : constraintText(this.c, this.constraint, this.dict, this.counter)
  }
}

class ConstraintCheck implements CompiledFilter {
  readonly name = 'constraints'
  readonly codes: number
  constructor(
    private readonly state: ClusterState,
    private readonly jobId: string,
    private readonly constraints: readonly Constraint[],
    private readonly mask: Uint16Array,
    private readonly dyn: readonly DynamicCheck[],
  ) {
    this.codes = 2 * constraints.length
  }

  check(node: number): number {
    const s = this.mask[node]!
    if (s !== 0) return s
    const dyn = this.dyn
    for (let k = 0; k < dyn.length; k++) {
      const d = dyn[k]!
      const c = d.counter
      const count = c.get(d.ids[node]!)
      switch (d.op) {
        case OP_UNIQUE:
          if (count !== 0) return d.code
          break
        case OP_MAX_PER:
          if (count >= d.limit) return d.code
          break
        case OP_CLUSTER:
          if (count !== c.total) return d.code
          break
        default:
          if (count !== 0 && (c.used < d.limit || count !== c.minUsed)) return d.code
      }
    }
    return 0
  }

  explain(): readonly RejectionKind[] {
    return this.constraints.flatMap((c) => {
      const dict = this.state.field(c.field)
      const counter = isStaticOperator(c.operator) ? undefined : this.state.counter(this.jobId, c.field)
      return [new ConstraintRejection(c, false, dict, counter), new ConstraintRejection(c, true, dict, counter)]
    })
  }
}

/**
 * Marathon constraints. Counts come from the job's tasks already in the snapshot plus
 * those placed earlier in the same plan (incremental per-value counters, O(1) per node).
 *  - UNIQUE: no task of the job on the node's value yet.
 *  - CLUSTER[:v]: the node's value equals v (when given) and every task of the job is on that value.
 *  - GROUP_BY[:m]: Marathon's rule: the value is new for the job, or at least m values are used
 *    and the value holds the fewest tasks among them (m defaults to 0; the groups scorer
 *    makes the job open every value before doubling up).
 *  - MAX_PER:n: fewer than n tasks on the node's value.
 *  - LIKE:re / UNLIKE:re: the value matches / does not match re in full.
 *  - IS:v: the value equals v.
 * A node without the field is refused by every operator but UNLIKE (Marathon).
 */
export const constraintsFilter: FilterPlugin = {
  name: 'constraints',
  reasons: ['constraint-missing-field', ...Object.values(OPERATOR_REASON)],
  compile(state, task, constraints) {
    if (constraints.length === 0) return undefined
    const mask = staticMask(state, constraints, constraintSignature(constraints))
    const dyn: DynamicCheck[] = []
    constraints.forEach((c, k) => {
      if (isStaticOperator(c.operator)) return
      const op = c.operator === 'UNIQUE' ? OP_UNIQUE : c.operator === 'MAX_PER' ? OP_MAX_PER : c.operator === 'CLUSTER' ? OP_CLUSTER : OP_GROUP_BY
      dyn.push({op, ids: state.field(c.field).ids, counter: state.counter(task.jobId, c.field), limit: c.value === undefined ? 0 : Number(c.value), code: 2 * k + 1})
    })
    return new ConstraintCheck(state, task.jobId, constraints, mask, dyn)
  },
}

function constraintText(c: Constraint, shown: string, dict: FieldDict, counter: FieldCounter | undefined): string {
  const what = c.field === HOSTNAME_FIELD ? 'node' : c.field
  switch (c.operator) {
    case 'UNIQUE':
      return `fail ${shown} (their ${what} already runs an instance)`
    case 'MAX_PER':
      return `fail ${shown} (their ${what} already runs ${c.value})`
    case 'GROUP_BY':
      return `fail ${shown} (would unbalance the ${what} groups)`
    case 'CLUSTER': {
      const v = counter?.clusterValue() ?? -1
      if (v >= 0) return `fail ${shown} (instances run on ${c.field}=${dict.values[v]})`
      if (v === -2) return `fail ${shown} (instances already run on different ${what}s)`
      return `fail ${shown}`
    }
    default:
      return `fail ${shown}${c.because ? ` (${c.because})` : ''}`
  }
}

export function constraintSignature(constraints: readonly Constraint[]): string {
  return constraints.map(formatConstraint).join('\u0000')
}

/**
 * The filters in the order they run: a node is counted under the first that refuses it.
 * Constraints come before resources (as node affinity comes before resource fit in
 * Kubernetes): a node a constraint excludes stays excluded however much is freed on it,
 * so "fail rack:CLUSTER" is the actionable reason, not "insufficient cpus".
 */
export const FILTERS: readonly FilterPlugin[] = [nodeStateFilter, constraintsFilter, resourcesFilter, hostPortsFilter]

/**
 * Filter plugins (Kubernetes framework "Filter", Nomad "FeasibilityChecker"): each one
 * answers "can this node take this task?" and, when not, says why with a reason code.
 *
 * A plugin compiles a task once into a `check(node)` closure over the state's typed
 * arrays, so the per-node test allocates nothing. `check` returns 0 when the node
 * passes, or k >= 1 meaning `rejections[k - 1]`. A node is refused by the first filter
 * that fails, in FILTERS order, which is also how pending summaries count nodes.
 */
import {formatBytes, formatCpu} from '../model/resources.js'
import type {ClusterState, FieldCounter, FieldDict} from './cluster-state.js'
import {formatConstraint, fullMatchRegex, HOSTNAME_FIELD} from './constraints.js'
import type {Constraint, ReasonCode, TaskRequest} from './types.js'

export interface RejectionKind {
  readonly reason: ReasonCode
  /**
   * Human text without the count. `maxFree` is the most any refusing node has free of
   * the blocking resource (resource and port reasons only).
   */
  text(maxFree: number, oneNode?: boolean): string
  /** For resource and port reasons: the node's free amount, to report the best one. */
  readonly free?: (node: number) => number
  readonly need?: number
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

const STATE_REJECTIONS: readonly RejectionKind[] = (['cordoned', 'draining', 'suspect', 'down', 'unreachable'] as const).map((s) => ({
  reason: `node-${s}` as ReasonCode,
  text: () => s,
}))

/** Only ready nodes take new work. */
export const nodeStateFilter: FilterPlugin = {
  name: 'node-state',
  reasons: STATE_REJECTIONS.map((r) => r.reason),
  compile(state) {
    return state.memoize('filter:node-state', (): CompiledFilter => {
      const codes = state.stateCode
      return {name: 'node-state', check: (node) => codes[node]!, codes: STATE_REJECTIONS.length, explain: () => STATE_REJECTIONS}
    })
  },
}

function freeWord(oneNode: boolean | undefined): string {
  return oneNode === true ? 'free' : 'max free'
}

function shownFree(free: number, format: (v: number) => string): string {
  return format(Math.max(0, free))
}

/** cpus, mem, disk and gpus: allocated + plan <= allocatable in every dimension. */
export const resourcesFilter: FilterPlugin = {
  name: 'resources',
  reasons: ['insufficient-cpu', 'insufficient-mem', 'insufficient-disk', 'insufficient-gpus'],
  compile(state, task) {
    const cpu = task.resources.cpuMilli
    const mem = task.resources.memBytes
    const disk = task.resources.diskBytes
    const gpus = task.resources.gpus
    const fc = state.freeCpu
    const fm = state.freeMem
    const fd = state.freeDisk
    const fg = state.freeGpu
    const gpuText = (v: number) => String(v)
    return {
      name: 'resources',
      check: (i) => (fc[i]! < cpu ? 1 : fm[i]! < mem ? 2 : fd[i]! < disk ? 3 : fg[i]! < gpus ? 4 : 0),
      codes: 4,
      explain: (): RejectionKind[] => [
        {reason: 'insufficient-cpu', need: cpu, free: (i) => fc[i]!, text: (m, one) => `insufficient cpus (need ${formatCpu(cpu)}, ${freeWord(one)} ${shownFree(m, formatCpu)})`},
        {reason: 'insufficient-mem', need: mem, free: (i) => fm[i]!, text: (m, one) => `insufficient mem (need ${formatBytes(mem)}, ${freeWord(one)} ${shownFree(m, formatBytes)})`},
        {reason: 'insufficient-disk', need: disk, free: (i) => fd[i]!, text: (m, one) => `insufficient disk (need ${formatBytes(disk)}, ${freeWord(one)} ${shownFree(m, formatBytes)})`},
        {reason: 'insufficient-gpus', need: gpus, free: (i) => fg[i]!, text: (m, one) => `insufficient gpus (need ${gpus}, ${freeWord(one)} ${shownFree(m, gpuText)})`},
      ],
    }
  },
}

/** Enough free host ports in the range (snapshot's used ports plus those this plan handed out). */
export const hostPortsFilter: FilterPlugin = {
  name: 'host-ports',
  reasons: ['insufficient-ports'],
  compile(state, task) {
    const need = task.ports
    if (need <= 0) return undefined
    const free = state.freePorts
    const range = `${state.portFrom}-${state.portTo}`
    return {
      name: 'host-ports',
      check: (i) => (free[i]! < need ? 1 : 0),
      codes: 1,
      explain: (): RejectionKind[] => [
        {
          reason: 'insufficient-ports',
          need,
          free: (i) => free[i]!,
          text: (m, one) => `too few free host ports in ${range} (need ${need}, ${freeWord(one)} ${Math.max(0, m)})`,
        },
      ],
    }
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
 */
export const constraintsFilter: FilterPlugin = {
  name: 'constraints',
  reasons: ['constraint-missing-field', ...Object.values(OPERATOR_REASON)],
  compile(state, task, constraints) {
    if (constraints.length === 0) return undefined
    const sig = constraintSignature(constraints)
    const mask = staticMask(state, constraints, sig)
    const dyn: DynamicCheck[] = []
    const explain = () =>
      constraints.flatMap((c): RejectionKind[] => {
        const shown = formatConstraint(c)
        const dict = state.field(c.field)
        const counter = isStaticOperator(c.operator) ? undefined : state.counter(task.jobId, c.field)
        return [
          {reason: OPERATOR_REASON[c.operator], constraint: shown, text: () => constraintText(c, shown, dict, counter)},
          {reason: 'constraint-missing-field', constraint: shown, text: () => `lack label ${c.field} (${shown})`},
        ]
      })
    constraints.forEach((c, k) => {
      const dict = state.field(c.field)
      const counter = isStaticOperator(c.operator) ? undefined : state.counter(task.jobId, c.field)
      if (counter === undefined) return
      const op = c.operator === 'UNIQUE' ? OP_UNIQUE : c.operator === 'MAX_PER' ? OP_MAX_PER : c.operator === 'CLUSTER' ? OP_CLUSTER : OP_GROUP_BY
      dyn.push({op, ids: dict.ids, counter, limit: c.value === undefined ? 0 : Number(c.value), code: 2 * k + 1})
    })
    const check =
      dyn.length === 0
        ? (node: number) => mask[node]!
        : (node: number) => {
            const s = mask[node]!
            if (s !== 0) return s
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
    return {name: 'constraints', check, codes: 2 * constraints.length, explain}
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
      return `fail ${shown}`
  }
}

export function constraintSignature(constraints: readonly Constraint[]): string {
  return constraints.map(formatConstraint).join('\u0000')
}

/** The filters in the order they run: a node is counted under the first that refuses it. */
export const FILTERS: readonly FilterPlugin[] = [nodeStateFilter, resourcesFilter, hostPortsFilter, constraintsFilter]

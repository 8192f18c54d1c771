/**
 * The scheduler's input and output: plain data only, so the store, the reconcile loop
 * and the tests can build it without knowing how the scheduler works inside.
 *
 * Amounts use the integer units of core/model/resources.ts (milli-cores, bytes).
 */
import type {NodeState} from '../model/node.js'
import type {Constraint, Preference, Strategy} from '../model/placement.js'
import type {Resources} from '../model/resources.js'
import type {TeamShare} from './order.js'

export type {NodeState} from '../model/node.js'
export {NODE_STATES} from '../model/node.js'
export type {Constraint, ConstraintOperator, Preference, Strategy} from '../model/placement.js'
export {CONSTRAINT_OPERATORS} from '../model/placement.js'

export interface SchedNode {
  id: string
  /** The hostname: the value of the `hostname` constraint field. */
  name: string
  state: NodeState
  /** Node labels; any of them can be a constraint or preference field. */
  labels: Readonly<Record<string, string>>
  /** What the node offers to tasks (capacity minus reserved). */
  allocatable: Resources
  /** What running and starting tasks already hold. */
  allocated: Resources
  /** Host ports already taken on the node (any range). */
  usedPorts: readonly number[]
  /**
   * The machine the node runs on, when several nodes may share one (several names for
   * one address, the `local` lab set-up). Nodes with the same `host` share one host
   * port space: a port given to a task on one is taken on all. Absent: a space of its own.
   */
  host?: string
  /**
   * A condition of the node's health that keeps new work off it (docs/health.md:
   * DiskPressure, MemoryPressure, any critical condition...): a ready node with one is
   * refused as `node-condition`. Absent: none.
   */
  blockedBy?: string
}

/** A task that already runs (or is starting) somewhere: it counts toward its job's constraints. */
export interface PlacedTask {
  taskId: string
  jobId: string
  nodeId: string
}

export interface TaskRequest {
  taskId: string
  jobId: string
  instance: number
  resources: Resources
  /** How many host ports the task needs; the scheduler picks them from the port range. */
  ports: number
  constraints: readonly Constraint[]
  preferences: readonly Preference[]
  /** Per-job choice; defaults to the cluster default (`defaultStrategy`, itself `binpack`). */
  strategy?: Strategy
  /** The job's team (default `default`): pending work is offered in weighted DRF order between teams (order.ts). */
  team?: string
  /** 1..100 (default 50): within a team, higher first. */
  priority?: number
}

export interface Snapshot {
  nodes: readonly SchedNode[]
  placed: readonly PlacedTask[]
}

export interface PortRange {
  /** First port of the range, inclusive. */
  from: number
  /** Last port of the range, inclusive. */
  to: number
}

export interface ScheduleOptions {
  /** Seeds the tie-breaks between equally good nodes; same seed, same plan. */
  seed: number
  /** Host ports to hand out, default 31000-32000. */
  portRange?: PortRange
  /** The strategy of tasks that do not choose one, default `binpack`. */
  defaultStrategy?: Strategy
  /**
   * `largest-first` (default) places the biggest requests first, as first-fit-decreasing
   * does, which packs better and lets big tasks in before the cluster fragments;
   * `as-given` keeps the order of `work` (the caller's priority order).
   */
  order?: 'largest-first' | 'as-given'
  /**
   * How many feasible nodes the indexed search scores before it settles (default 8).
   * Larger is closer to a full scan and slower. Feasibility never depends on it.
   */
  candidates?: number
  /**
   * After the greedy placement, a bounded local search that tries to empty the nodes this
   * plan opened by moving their new tasks into the free room of others (default true).
   * Its work is proportional to the batch; false gives the greedy plan alone.
   */
  improve?: boolean
  /**
   * The teams' weights, quotas and what they hold already (order.ts). Teams of the work
   * that are not listed have weight 1, no quota and nothing allocated.
   */
  teams?: readonly TeamShare[]
}

/** Why a node cannot take a task. Stable strings for `--json`. */
export type ReasonCode =
  | 'node-cordoned'
  | 'node-draining'
  | 'node-suspect'
  | 'node-down'
  | 'node-unreachable'
  | 'node-condition'
  | 'insufficient-cpu'
  | 'insufficient-mem'
  | 'insufficient-disk'
  | 'insufficient-gpus'
  | 'insufficient-ports'
  | 'constraint-missing-field'
  | 'constraint-unique'
  | 'constraint-cluster'
  | 'constraint-group-by'
  | 'constraint-like'
  | 'constraint-unlike'
  | 'constraint-max-per'
  | 'constraint-is'
  | 'team-over-quota'

/** One line of a pending task's summary: how many nodes refused it for one reason. */
export interface RejectionDetail {
  reason: ReasonCode
  count: number
  /** Human text without the count, e.g. `insufficient mem (need 2Gi, max free 1.5Gi)`. */
  text: string
  /** For resource and port reasons: the amount asked for (milli-cores, bytes, gpus, ports). */
  need?: number
  /** For resource and port reasons: the most any refusing node has free. */
  maxFree?: number
  /** For constraint reasons: the constraint as the user wrote it, e.g. `rack:MAX_PER:2`. */
  constraint?: string
  /** For `team-over-quota`: the team. */
  team?: string
}

export interface Placement {
  taskId: string
  jobId: string
  nodeId: string
  hostPorts: number[]
  /** The node's total score for the task (see README: groups, preferences, strategy). */
  score: number
}

export interface PendingTask {
  taskId: string
  jobId: string
  /** e.g. `0/3 nodes fit: 2 insufficient mem (need 2Gi, max free 1.5Gi), 1 cordoned` */
  reason: string
  /**
   * Nodes per reason code; the counts add up to the number of nodes in the snapshot.
   * Empty for a task over its team's quota (never offered to a node): its one detail says why.
   */
  counts: Partial<Record<ReasonCode, number>>
  details: RejectionDetail[]
}

export interface Plan {
  /** In the order they were decided (largest request first unless `order: 'as-given'`). */
  placements: Placement[]
  /** In the order of `work`. */
  pending: PendingTask[]
}

/**
 * What the dashboard reads and what it asks for. Plain data: the dashboard never
 * touches the store or SSH; a source (src/core/services/dashboard.ts) does, and the
 * command that renders the dashboard hands it in.
 */
import type {JobDeployments, RolloutStatus} from '../../core/model/deployment.js'
import type {ClusterEvent} from '../../core/model/event.js'
import type {Node} from '../../core/model/node.js'
import type {Job, Task} from '../../core/model/task.js'
import type {JobRuns} from '../../core/model/run.js'

/** What a snapshot reads beyond the lists: the job whose detail is open. */
export interface SnapshotFocus {
  job?: string
}

/** One consistent read of the state file. */
export interface DashboardSnapshot {
  /** When it was read (the dashboard's "now" for ages). */
  at: number
  nodes: Node[]
  jobs: Job[]
  /** Live tasks (pending, staging, starting, running, unreachable). */
  tasks: Task[]
  /** Events newer than the id asked for, oldest first. */
  events: ClusterEvent[]
  /** The schedule and newest runs of the job whose detail is open (asked for by `focus`), when it is scheduled or dependent. */
  jobRuns: JobRuns | null
  /** The status of every open (running or paused) rollout. */
  rollouts: RolloutStatus[]
  /** The newest versions of the job whose detail is open (asked for by `focus`), with the newest one's status. */
  jobDeployments: JobDeployments | null
}

/** Outcome of a scale, as the status line tells it. */
export interface ScaleOutcome {
  instances: number
  /** Instances of the job left pending, with their reasons. */
  pending: string[]
  failed: number
  /** Set when a daemon converged it rather than this process. */
  convergedBy: string | null
}

/**
 * Reads and actions, through the same services as the CLI commands
 * (`node cordon|uncordon|drain`, `scale`, `logs`).
 */
export interface DashboardSource {
  /** Where the state lives, for the header. */
  readonly label: string
  /** One read; `focus.job`: also that job's schedule and runs. */
  snapshot(afterEventId: number, focus?: SnapshotFocus): DashboardSnapshot
  setSchedulable(node: string, schedulable: boolean): {changed: boolean}
  drain(node: string): {changed: boolean}
  scale(job: string, instances: number): Promise<ScaleOutcome>
  stopTask(taskId: string): {changed: boolean}
  /** The last `tail` lines of a task's container log. */
  logs(taskId: string, tail: number): Promise<string[]>
}

/** Jobs (desired state) and their specs. Plain data and pure helpers only. */
import {createHash} from 'node:crypto'

import type {Constraint, Preference, Strategy} from './placement.js'
import type {RuntimeName} from './node.js'
import type {Resources} from './resources.js'

export type JobKind = 'service' | 'batch'
export type RestartPolicy = 'always' | 'on-failure' | 'never'

export interface PortSpec {
  containerPort: number
  protocol: 'tcp' | 'udp'
  name: string | null
}

/**
 * A mount of a job's containers (docs/volumes.md). Without `local` or `nfs`: a host path
 * bound as it is. With either: a named volume (core/model/volume.ts), `source` its name.
 */
export interface VolumeSpec {
  /** A host path, or the name of a named volume. */
  source: string
  target: string
  readOnly: boolean
  /** A local volume: instance i gets `NAME-i`, a directory on one node, this size reserved on its disk. */
  local?: {sizeBytes: number}
  /** An NFS export, shared by every instance. */
  nfs?: NfsSource
}

export interface NfsSource {
  server: string
  /** The exported path, absolute. */
  export: string
  /** Mount options (default `rw`), without addr=. */
  options: string
}

export interface HealthCheckSpec {
  type: 'http' | 'tcp' | 'cmd'
  /** Container port to probe (http, tcp). */
  port: number | null
  path: string | null
  command: string | null
  gracePeriodMs: number
  intervalMs: number
  timeoutMs: number
  maxConsecutiveFailures: number
}

/** A count of instances, or a percentage of the desired count (`25%`). */
export type IntOrPercent = number | string

/**
 * How a changed spec rolls out (docs/deployments.md). At every moment at least
 * N - maxUnavailable instances are available and at most N + maxSurge exist
 * (Kubernetes rounding: maxUnavailable's percentage rounds down, maxSurge's up).
 */
export interface UpgradePolicy {
  maxUnavailable: IntOrPercent
  maxSurge: IntOrPercent
  /** A new instance counts as available once it has been ready this long. */
  minHealthyTimeMs: number
  /** A new instance that is not available this long after it was created counts as failed. */
  healthyDeadlineMs: number
  /** A deployment that makes no progress (no instance becomes available) this long fails. */
  progressDeadlineMs: number
  /** New instances that may fail before the deployment fails. */
  maxFailedInstances: number
  /** A failed deployment rolls back to the last stable version (else it stays paused). */
  autoRollback: boolean
  /**
   * New instances started beside the old ones first (none of the old ones stops); the
   * rollout waits for `clusterctl rollout promote`, or for autoPromote. N: blue/green.
   */
  canary: number
  /** Canaries all available this long promote the rollout by themselves; null: only by hand. */
  autoPromoteMs: number | null
}

export const UPGRADE_DEFAULTS: Readonly<UpgradePolicy> = Object.freeze({
  maxUnavailable: 0,
  maxSurge: 1,
  minHealthyTimeMs: 10_000,
  healthyDeadlineMs: 5 * 60_000,
  progressDeadlineMs: 10 * 60_000,
  maxFailedInstances: 0,
  autoRollback: true,
  canary: 0,
  autoPromoteMs: null,
})

/** An IntOrPercent as a count for `n` instances: a percentage rounds up (`up`) or down. */
export function resolveIntOrPercent(value: IntOrPercent, n: number, up: boolean): number {
  if (typeof value === 'number') return value
  const pct = Number(value.slice(0, -1))
  const exact = (n * pct) / 100
  // 1e-9: 3 x 33.333...% is 1, not 0.99999 rounded down
  return up ? Math.ceil(exact - 1e-9) : Math.floor(exact + 1e-9)
}

/**
 * The bounds of a rollout of `n` instances (Kubernetes: maxSurge rounds up,
 * maxUnavailable down; both 0 would never move, so maxUnavailable becomes 1).
 */
export function rolloutBounds(upgrade: Pick<UpgradePolicy, 'maxUnavailable' | 'maxSurge'>, n: number): {maxUnavailable: number; maxSurge: number} {
  const maxSurge = resolveIntOrPercent(upgrade.maxSurge, n, true)
  let maxUnavailable = Math.min(n, resolveIntOrPercent(upgrade.maxUnavailable, n, false))
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1
  return {maxUnavailable, maxSurge}
}

/**
 * Marathon's upgradeStrategy for `n` instances, exactly: maxUnavailable =
 * n - ceil(n x minimumHealthCapacity), maxSurge = floor(n x maximumOverCapacity); when
 * both are 0 Marathon silently starts one extra: maxSurge 1, with `adjusted` set. A
 * resident app (one with persistent volumes: here a job with a local volume) never
 * surges (Marathon requires maximumOverCapacity 0 for it): when no instance could stop
 * Marathon stops one below minimumHealthCapacity instead (TaskReplaceActor's restart
 * strategy), so maxUnavailable is at least 1, without a word.
 */
export function fromMarathonCapacity(n: number, minimumHealthCapacity: number, maximumOverCapacity: number, resident = false): {maxUnavailable: number; maxSurge: number; adjusted: boolean} {
  const maxUnavailable = n - Math.ceil(n * minimumHealthCapacity - 1e-9)
  if (resident) return {maxUnavailable: Math.max(1, maxUnavailable), maxSurge: 0, adjusted: false}
  const maxSurge = Math.floor(n * maximumOverCapacity + 1e-9)
  if (maxUnavailable === 0 && maxSurge === 0) return {maxUnavailable: 0, maxSurge: 1, adjusted: n > 0}
  return {maxUnavailable, maxSurge, adjusted: false}
}

/**
 * A stored spec's upgrade policy: specs recorded before deployments carried Marathon's
 * fractions, never enforced; they read as the defaults.
 */
export function upgradeOf(spec: Pick<JobSpec, 'upgrade'>): UpgradePolicy {
  const u = spec.upgrade as Partial<UpgradePolicy> | undefined
  return u && u.maxSurge !== undefined ? {...UPGRADE_DEFAULTS, ...u} : {...UPGRADE_DEFAULTS}
}

export type Concurrency = 'forbid' | 'allow' | 'replace'
export type CatchUp = 'last' | 'none' | 'all'

/**
 * When a batch job runs (scheduled and dependent jobs, docs/scheduled-jobs.md): on a
 * schedule, after its parents succeed, or both; each firing is a run.
 */
export interface RunPolicy {
  /** Cron expressions (joined with `; `) or one ISO 8601 `Rn/START/PERIOD`; null: parents or `trigger` only. */
  schedule: string | null
  /** IANA zone the schedule is read in. */
  timezone: string
  /** Parent jobs: a run starts when each has succeeded since this job's last start. */
  after: string[]
  /** Further attempts after a failed one (back-off 10 s doubling, at most 10 min). */
  retries: number
  /** A run that takes longer is killed and recorded failed, with no retry. */
  deadlineMs: number | null
  /** What a firing does while a run is still going. */
  concurrency: Concurrency
  /** Times missed while no controller ran. */
  catchUp: CatchUp
  /** A run that cannot start within this long after its time is skipped; null: no limit. */
  startingDeadlineMs: number | null
  suspend: boolean
}

export const RUN_DEFAULTS = {retries: 2, concurrency: 'forbid', catchUp: 'last', timezone: 'UTC'} as const

export interface JobSpec {
  name: string
  kind: JobKind
  image: string
  /** Full command (entrypoint and args); null runs the image's default. */
  command: string[] | null
  env: Record<string, string>
  resources: Resources
  instances: number
  ports: PortSpec[]
  volumes: VolumeSpec[]
  constraints: Constraint[]
  preferences: Preference[]
  healthCheck: HealthCheckSpec | null
  /**
   * Whether an instance is ready to serve: it gates rollouts (and later traffic) but never
   * kills (Marathon's readinessChecks). Absent: ready once running and healthy.
   */
  readinessCheck?: HealthCheckSpec
  restart: {policy: RestartPolicy; maxRetries: number}
  labels: Record<string, string>
  /** Placement strategy; null uses the cluster default (binpack). */
  strategy: Strategy | null
  /** Run only on nodes with this runtime; null: any. */
  runtime: RuntimeName | null
  upgrade: UpgradePolicy
  /** Scheduled or dependent batch job; absent for a plain job. */
  runPolicy?: RunPolicy
  /**
   * false: the command runs as the container's PID 1. Absent (the default): a small init
   * (catatonit or tini from the node) is PID 1 and forwards signals, so a process that
   * ignores SIGTERM as PID 1 (busybox sleep, httpd) still stops at once.
   */
  init?: false
  /** The team the job belongs to (docs/teams.md); absent: `default`. */
  team?: string
  /** 1..100, higher is placed first within its team; absent: 50. */
  priority?: number
  /**
   * `never`: the job's pending tasks never preempt lower-priority ones; `force`: they may,
   * beyond the victims' disruption budgets when no node can make room within them;
   * absent: they may, within the budgets.
   */
  preemption?: 'never' | 'force'
  /**
   * Start order (Marathon's app `dependencies`): a job with no live task yet starts once
   * every job named here has all its instances available; absent: it starts at once.
   */
  dependsOn?: string[]
  /**
   * The stable port the service is reached at on every edge node (docs/endpoints.md);
   * absent: one is assigned from 10000-10999 and kept (the job's `servicePort`).
   */
  servicePort?: number
  /**
   * Services the job's containers reach by their stable address (docs/endpoints.md): each
   * gives NAME_SERVICE_HOST, NAME_SERVICE_PORT and NAME_SERVICE_HOSTS (edge/injected.ts).
   */
  uses?: string[]
  /**
   * The podman network the job's containers join (docs/networks.md), created on each node
   * on demand with DNS on; absent: podman's default bridge (containerd: host networking).
   */
  network?: string
  /**
   * How long a stop waits for the task's connections on the edges to end before it stops
   * it anyway (docs/endpoints.md); absent: 30 s (edge/runner.ts DEFAULT_DRAIN_TIMEOUT_MS).
   */
  drainTimeoutMs?: number
}

/** Whether runs (schedule, parents, trigger) rather than the instance count drive the job's tasks. */
export function isRunDriven(spec: Pick<JobSpec, 'runPolicy'>): boolean {
  return spec.runPolicy !== undefined
}

/**
 * A short hash of what a container is made of: a change means its containers must be
 * replaced. `generation` (bumped by `clusterctl restart`) forces that without a change.
 */
export function containerSpecHash(spec: JobSpec, generation = 0): string {
  const relevant = {
    image: spec.image,
    command: spec.command,
    env: sortKeys(spec.env),
    resources: spec.resources,
    ports: spec.ports.map((p) => [p.containerPort, p.protocol]),
    volumes: spec.volumes,
    labels: sortKeys(spec.labels),
    healthCheck: spec.healthCheck,
    ...(spec.init === false ? {init: false} : {}),
    // Absent when empty, so the hashes of specs stored before `uses` stay as they were.
    ...(spec.uses?.length ? {uses: [...spec.uses].sort()} : {}),
    ...(spec.network === undefined ? {} : {network: spec.network}),
    ...(generation > 0 ? {generation} : {}),
  }
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 12)
}

function sortKeys(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

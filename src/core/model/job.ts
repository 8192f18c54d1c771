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

export interface VolumeSpec {
  source: string
  target: string
  readOnly: boolean
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

export interface UpgradeStrategy {
  /** Fraction of instances (0..1) that must stay healthy during a rollout (Marathon). */
  minimumHealthCapacity: number
  /** Fraction of extra instances (0..1) a rollout may start above the target (Marathon). */
  maximumOverCapacity: number
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
  restart: {policy: RestartPolicy; maxRetries: number}
  labels: Record<string, string>
  /** Placement strategy; null uses the cluster default (binpack). */
  strategy: Strategy | null
  /** Run only on nodes with this runtime; null: any. */
  runtime: RuntimeName | null
  upgrade: UpgradeStrategy
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
  /** `never`: the job's pending tasks never preempt lower-priority ones; absent: they may. */
  preemption?: 'never'
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
    ...(generation > 0 ? {generation} : {}),
  }
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 12)
}

function sortKeys(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/** Builders of plain model objects and snapshots for the dashboard's tests. */
import type {Deployment, RolloutStatus} from '../../../../src/core/model/deployment.js'
import type {ClusterEvent} from '../../../../src/core/model/event.js'
import type {Inventory} from '../../../../src/core/model/inventory.js'
import {type JobSpec, UPGRADE_DEFAULTS} from '../../../../src/core/model/job.js'
import type {Node} from '../../../../src/core/model/node.js'
import type {JobRuns, Run} from '../../../../src/core/model/run.js'
import type {Job, Task} from '../../../../src/core/model/task.js'
import type {DashboardSnapshot} from '../../../../src/ui/dashboard/types.js'

export const Gi = 1024 ** 3
export const Mi = 1024 ** 2
/** The snapshots' "now". */
export const NOW = Date.UTC(2026, 0, 1, 12, 0, 0)

function inventory(threads: number, memBytes: number): Inventory {
  return {
    hostname: 'host',
    os: {id: 'debian', name: 'Debian', version: '12', prettyName: 'Debian 12'},
    kernel: '6.1.0',
    arch: 'x86_64',
    cpu: {model: 'cpu', sockets: 1, cores: threads, threads},
    memory: {totalBytes: memBytes, availableBytes: memBytes},
    disks: [],
    dataDisk: null,
    gpus: [],
    network: [],
    runtimes: {podman: {version: '4.9', usable: true, problem: null}, containerd: {version: null, usable: false, problem: 'not installed'}},
    cgroupVersion: 2,
    load: null,
    uptimeSeconds: 100,
    clockOffsetMs: 0,
    probeMs: 10,
  }
}

export function aNode(name: string, init: Partial<Node> = {}): Node {
  const capacity = {cpuMilli: 4000, memBytes: 8 * Gi, diskBytes: 100 * Gi, gpus: 0}
  return {
    id: `node-${name}`,
    name,
    address: {host: name, port: null, user: 'root'},
    resolvedAddress: `root@${name}:22`,
    keyPath: null,
    sudo: false,
    runtime: 'podman',
    hostKey: null,
    state: 'ready',
    adminState: 'ready',
    missedHeartbeats: 0,
    heartbeatError: null,
    stateSince: NOW - 3_600_000,
    usage: {load1: 0.5, memAvailableBytes: 6 * Gi, at: NOW - 1000},
    heartbeatLatencies: [1200, 1250, 1300, 1280],
    labels: {},
    declared: {},
    capacity,
    reserved: {cpuMilli: 0, memBytes: 0, diskBytes: 0, gpus: 0},
    inventory: inventory(4, 8 * Gi),
    inventoriedAt: NOW - 3_600_000,
    createdAt: NOW - 3_600_000,
    lastSeenAt: NOW - 2000,
    conditions: [],
    healthProbedAt: null,
    ...init,
  }
}

export function aJob(name: string, init: Partial<Job> & {cpuMilli?: number; memBytes?: number} = {}): Job {
  const {cpuMilli = 1000, memBytes = 1 * Gi, ...rest} = init
  const spec: JobSpec = {
    name,
    kind: 'service',
    image: 'localhost/test:latest',
    command: null,
    env: {},
    resources: {cpuMilli, memBytes, diskBytes: 0, gpus: 0},
    instances: 2,
    ports: [{containerPort: 8080, protocol: 'tcp', name: null}],
    volumes: [],
    constraints: [],
    preferences: [],
    healthCheck: null,
    restart: {policy: 'always', maxRetries: 0},
    labels: {},
    strategy: null,
    runtime: null,
    upgrade: {...UPGRADE_DEFAULTS},
  }
  return {id: `job-${name}`, name, kind: 'service', spec, specHash: 'hash', instances: spec.instances, generation: 0, state: 'active', createdAt: NOW - 600_000, updatedAt: NOW - 600_000, ...rest}
}

export function aTask(job: Job, instance: number, node: string | null, init: Partial<Task> = {}): Task {
  return {
    id: `task-${job.name}-${instance}-${node ?? 'none'}`,
    jobId: job.id,
    jobName: job.name,
    instance,
    nodeId: node ? `node-${node}` : null,
    nodeName: node,
    state: node ? 'running' : 'pending',
    desired: 'run',
    health: node ? 'healthy' : 'unknown',
    healthFailures: 0,
    healthCheckedAt: null,
    healthMessage: null,
    replaces: null,
    containerName: node ? `ctl-${job.name}-${instance}` : null,
    hostPorts: node ? [{containerPort: 8080, hostPort: 31000 + instance, protocol: 'tcp'}] : [],
    specHash: 'hash',
    reason: node ? null : '0/2 nodes fit: 2 insufficient mem (need 64Gi, max free 7Gi)',
    reasonData: null,
    restarts: 0,
    exitCode: null,
    createdAt: NOW - 300_000,
    updatedAt: NOW - 300_000,
    startedAt: node ? NOW - 240_000 : null,
    finishedAt: null,
    ...init,
  }
}

let nextEvent = 1
export function anEvent(type: string, subjectKind: ClusterEvent['subjectKind'], subject: string, message: string, data: Record<string, unknown> = {}): ClusterEvent {
  const id = nextEvent++
  return {id, at: NOW - 10_000 + id, type, subjectKind, subject, message, data}
}

/** Two ready nodes and a cordoned one; `web` with two running instances and one pending, `db` with one. */
export function aCluster(): DashboardSnapshot {
  const web = aJob('web', {instances: 3})
  const db = aJob('db', {instances: 1, cpuMilli: 2000, memBytes: 4 * Gi})
  return {
    at: NOW,
    nodes: [aNode('h1'), aNode('h2'), aNode('h3', {state: 'cordoned', adminState: 'cordoned'})],
    jobs: [web, db],
    tasks: [aTask(web, 0, 'h1'), aTask(web, 1, 'h2'), aTask(web, 2, null), aTask(db, 0, 'h1')],
    events: [anEvent('node.added', 'node', 'h1', 'added root@h1:22'), anEvent('job.created', 'job', 'web', 'created: service'), anEvent('node.cordoned', 'node', 'h3', 'cordoned: takes no new work; running tasks stay')],
    jobRuns: null,
    rollouts: [],
    jobDeployments: null,
  }
}

/** `tick`, a batch job every 10 minutes in New York, with one finished run, one failed and one running. */
export function aScheduledCluster(): DashboardSnapshot {
  const base = aCluster()
  const plain = aJob('tick', {kind: 'batch', instances: 0})
  const tick: Job = {...plain, spec: {...plain.spec, kind: 'batch', ports: [], runPolicy: {schedule: '*/10 * * * *', timezone: 'America/New_York', after: ['extract'], retries: 2, deadlineMs: null, concurrency: 'forbid', catchUp: 'last', startingDeadlineMs: null, suspend: false}}}
  const run = (at: number, init: Partial<Run>): Run => ({id: `tick@${new Date(at).toISOString().replace(/[-:]/g, '').replace('.000Z', 'Z')}`, jobId: tick.id, jobName: 'tick', trigger: 'schedule', scheduledAt: at, attempt: 1, state: 'succeeded', taskId: null, node: 'h1', exitCode: 0, reason: null, createdAt: at, startedAt: at + 1000, endedAt: at + 5000, retryAt: null, ...init})
  const runs = [
    run(NOW - 60_000 + 768, {trigger: 'manual', state: 'running', exitCode: null, endedAt: null}),
    run(NOW - 600_000, {state: 'failed', exitCode: 3, node: 'h2', reason: 'exited with code 3'}),
    run(NOW - 1_200_000, {}),
  ]
  const jobRuns: JobRuns = {job: 'tick', schedule: {schedule: '*/10 * * * *', timezone: 'America/New_York', next: ['2026-01-01T07:10:00-05:00', '2026-01-01T07:20:00-05:00', '2026-01-01T07:30:00-05:00'], parents: ['extract'], children: [], suspended: false, lastRun: runs[0]!}, runs}
  return {...base, jobs: [...base.jobs, tick], tasks: [...base.tasks, aTask(tick, 0, 'h1', {id: 'task-tick-run'})], jobRuns}
}

export function aDeployment(job: Job, version: number, init: Partial<Deployment> = {}): Deployment {
  const at = NOW - (10 - version) * 600_000
  return {id: `dep-${job.name}-${version}`, jobId: job.id, jobName: job.name, version, cause: version === 1 ? 'create' : 'apply', spec: job.spec, specHash: `hash${version}`, generation: version, state: 'succeeded', reason: null, rolledBackTo: null, available: job.instances, progressAt: at, promoted: false, countedFrom: at, createdAt: at, updatedAt: at, endedAt: at + 60_000, ...init}
}

export function aRolloutStatus(job: Job, deployment: Deployment, init: Partial<RolloutStatus> = {}): RolloutStatus {
  return {job: job.name, deployment, desired: job.instances, updated: 0, old: job.instances, bounds: {maxUnavailable: 0, maxSurge: 1}, backTo: null, ...init}
}

/**
 * `web` rolls out v3 (2 of 4 updated, started 5 minutes ago; v2 failed and rolled back
 * to v1 before), `db` rolls back to v2, `api`'s canary waits for promote, `cache` is paused;
 * the events have a superseded version and a completed rollback.
 */
export function aRolloutCluster(): DashboardSnapshot {
  const base = aCluster()
  const web = aJob('web', {instances: 4})
  const db = base.jobs.find((j) => j.name === 'db')!
  const plain = aJob('api', {instances: 3})
  const api: Job = {...plain, spec: {...plain.spec, upgrade: {...plain.spec.upgrade, canary: 1}}}
  const cache = aJob('cache', {instances: 2})
  const webV3 = aDeployment(web, 3, {state: 'running', endedAt: null, createdAt: NOW - 300_000})
  const history = [webV3, aDeployment(web, 2, {state: 'failed', reason: '1 new instance failed (failure budget 0)', rolledBackTo: 1}), aDeployment(web, 1)]
  return {
    ...base,
    jobs: [web, db, api, cache],
    tasks: [0, 1, 2, 3].map((i) => aTask(web, i, i % 2 === 0 ? 'h1' : 'h2')),
    events: [...base.events, anEvent('deployment.superseded', 'job', 'cache', 'version 4 superseded by version 5 (apply), which goes on from the instances running now', {version: 4, by: 5}), anEvent('deployment.rolled-back', 'job', 'db', 'version 3 rolled out: back to version 2: 1 of 1 instances available', {version: 3, to: 2})],
    rollouts: [
      aRolloutStatus(web, webV3, {updated: 2, old: 2}),
      aRolloutStatus(db, aDeployment(db, 4, {cause: 'rollback', state: 'running', endedAt: null}), {updated: 0, backTo: 2}),
      aRolloutStatus(api, aDeployment(api, 3, {state: 'running', endedAt: null}), {updated: 1}),
      aRolloutStatus(cache, aDeployment(cache, 5, {state: 'paused', reason: 'paused by the operator', endedAt: null}), {updated: 1}),
    ],
    jobDeployments: {job: 'web', status: aRolloutStatus(web, webV3, {updated: 2, old: 2}), history},
  }
}

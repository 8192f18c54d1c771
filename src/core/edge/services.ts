/**
 * What the edges should serve, from the controller's state (pure): each service (a job
 * with a service port) and its servers, one per placed task, with the state the edge
 * should hold it in. Readiness-gated: a task is in rotation only when it is running on
 * a node that answers, healthy when its job has a health check, and ready when it has a
 * readiness check (the rule rollouts use, reconcile/health.ts).
 */
import type {HealthCheckSpec, JobSpec} from '../model/job.js'
import {type Node, type NodeState, publicHostOf} from '../model/node.js'
import {isLive, type Job, type Task} from '../model/task.js'
import {isReady} from '../reconcile/health.js'
import type {EdgeCheck, EdgeServer, EdgeService, ServerState} from './haproxy.js'
import {frontedPort} from './service-ports.js'

/** Node states whose tasks are out of rotation at once, without waiting for HAProxy's checks. */
const OUT: ReadonlySet<NodeState> = new Set(['suspect', 'down', 'unreachable'])

/** HAProxy's checks run every 2 s at most (a job's own interval when shorter): a dead server is skipped between passes. */
export const EDGE_CHECK = {maxIntervalMs: 2000, fall: 3, rise: 2} as const

/** Whether a task may take new connections: running, healthy and ready by its job's checks. */
export function servesTraffic(task: Pick<Task, 'state' | 'health' | 'readiness'>, spec: Pick<JobSpec, 'healthCheck' | 'readinessCheck'>): boolean {
  return isReady(task, spec.healthCheck) && (!spec.readinessCheck || task.readiness === 'ready')
}

/**
 * HAProxy's own check of a service's servers: the job's readiness check, else its
 * health check, as HTTP when it is one, else a TCP connect (also for a command check, and
 * for a job without checks); on the served port unless the check names another.
 */
export function edgeCheckOf(spec: Pick<JobSpec, 'healthCheck' | 'readinessCheck'>): EdgeCheck & {containerPort: number | null} {
  const c: HealthCheckSpec | null = spec.readinessCheck ?? spec.healthCheck
  const intervalMs = Math.min(c?.intervalMs ?? EDGE_CHECK.maxIntervalMs, EDGE_CHECK.maxIntervalMs)
  const timeoutMs = Math.min(c?.timeoutMs ?? 2000, intervalMs)
  const base = {intervalMs, timeoutMs, fall: EDGE_CHECK.fall, rise: EDGE_CHECK.rise}
  if (c?.type === 'http') return {...base, type: 'http', path: c.path ?? '/', containerPort: c.port}
  return {...base, type: 'tcp', path: null, containerPort: c?.type === 'tcp' ? c.port : null}
}

/** The state an edge should hold a task's server in (null: no server for it). */
export function serverStateOf(task: Task, job: Pick<Job, 'state' | 'spec'>, node: Pick<Node, 'state'>): ServerState | null {
  if (!isLive(task.state)) return null
  if (OUT.has(node.state) || task.state !== 'running') return 'maint'
  if (task.desired === 'stop' || job.state === 'stopped') return 'drain'
  return servesTraffic(task, job.spec) ? 'ready' : 'maint'
}

/** Every service the edges serve, by job name, with its servers by task id. */
export function edgeServices(jobs: readonly Job[], tasks: readonly Task[], nodes: readonly Node[]): EdgeService[] {
  const nodesById = new Map(nodes.map((n) => [n.id, n]))
  const byJob = new Map<string, Task[]>()
  for (const t of tasks) {
    const list = byJob.get(t.jobId)
    if (list) list.push(t)
    else byJob.set(t.jobId, [t])
  }

  const out: EdgeService[] = []
  for (const job of jobs) {
    if (job.servicePort == null || frontedPort(job.spec) === null) continue
    const check = edgeCheckOf(job.spec)
    const servers: EdgeServer[] = []
    for (const task of byJob.get(job.id) ?? []) {
      const node = task.nodeId === null ? undefined : nodesById.get(task.nodeId)
      const served = task.hostPorts.find((h) => h.protocol === 'tcp')
      const state = node && served ? serverStateOf(task, job, node) : null
      if (!node || !served || state === null) continue
      const probed = check.containerPort === null || check.containerPort === served.containerPort ? undefined : task.hostPorts.find((h) => h.containerPort === check.containerPort)
      servers.push({name: task.id, address: publicHostOf(node), port: served.hostPort, checkPort: probed ? probed.hostPort : null, state})
    }

    const {containerPort: _port, ...edgeCheck} = check
    out.push({name: job.name, servicePort: job.servicePort, check: edgeCheck, servers: servers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))})
  }

  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** Jobs, tasks and pass reports as JSON (the `--json` contract, docs/json.md) and as text. */
import type {JobSpec} from '../../core/model/job.js'
import {formatBytes, formatCpu} from '../../core/model/resources.js'
import type {Job, Task} from '../../core/model/task.js'
import type {JobSummary} from '../../core/services/jobs.js'
import type {ClusterEvent} from '../../core/model/event.js'
import {paint} from '../style.js'
import {renderFields, renderTable} from '../table.js'
import {ago} from './nodes.js'

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

export interface TaskJson {
  id: string
  job: string
  instance: number
  node: string | null
  state: string
  desired: string
  health: string
  /** What the last health check said, when the job has one. */
  healthMessage: string | null
  /** The task a make-before-break move (better node, drain) replaces. */
  replaces: string | null
  containerName: string | null
  ports: Array<{containerPort: number; hostPort: number; protocol: string; endpoint: string | null}>
  reason: string | null
  restarts: number
  exitCode: number | null
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
}

/** Where a node's published ports are reached: the host part of its address. */
export type NodeHosts = ReadonlyMap<string, string>

export function taskToJson(t: Task, hosts: NodeHosts): TaskJson {
  const host = t.nodeName ? hosts.get(t.nodeName) ?? null : null
  return {
    id: t.id,
    job: t.jobName,
    instance: t.instance,
    node: t.nodeName,
    state: t.state,
    desired: t.desired,
    health: t.health,
    healthMessage: t.healthMessage,
    replaces: t.replaces,
    containerName: t.containerName,
    ports: t.hostPorts.map((p) => ({...p, endpoint: host ? `${host.includes(':') ? `[${host}]` : host}:${p.hostPort}` : null})),
    reason: t.reason,
    restarts: t.restarts,
    exitCode: t.exitCode,
    createdAt: iso(t.createdAt)!,
    startedAt: iso(t.startedAt),
    finishedAt: iso(t.finishedAt),
  }
}

export interface JobJson {
  id: string
  name: string
  kind: string
  state: string
  image: string
  instances: number
  running: number
  pending: number
  specHash: string
  createdAt: string
  updatedAt: string
  spec: JobSpecJson
}

export type JobSpecJson = Omit<JobSpec, 'resources'> & {cpus: number; memBytes: number; diskBytes: number; gpus: number}

export function specToJson(spec: JobSpec): JobSpecJson {
  const {resources, ...rest} = spec
  return {...rest, cpus: resources.cpuMilli / 1000, memBytes: resources.memBytes, diskBytes: resources.diskBytes, gpus: resources.gpus}
}

export function jobToJson(job: Job, counts: {running: number; pending: number}): JobJson {
  return {
    id: job.id,
    name: job.name,
    kind: job.kind,
    state: job.state,
    image: job.spec.image,
    instances: job.instances,
    running: counts.running,
    pending: counts.pending,
    specHash: job.specHash,
    createdAt: iso(job.createdAt)!,
    updatedAt: iso(job.updatedAt)!,
    spec: specToJson(job.spec),
  }
}

export function countsOf(tasks: readonly Task[], jobId: string): {running: number; pending: number} {
  const mine = tasks.filter((t) => t.jobId === jobId && t.desired === 'run')
  return {running: mine.filter((t) => t.state === 'running').length, pending: mine.filter((t) => t.state === 'pending').length}
}

export function renderJobsTable(jobs: JobSummary[], now: number): string {
  if (jobs.length === 0) return 'No jobs yet. Start one with `clusterctl run NAME --image IMG` or `clusterctl apply -f FILE`.'
  return renderTable(
    ['NAME', 'KIND', 'STATE', 'RUNNING', 'PENDING', 'IMAGE', 'CPUS', 'MEM', 'AGE'],
    jobs.map(({job, running, pending}) => [job.name, job.kind, job.state, `${running}/${job.instances}`, String(pending), job.spec.image, formatCpu(job.spec.resources.cpuMilli), formatBytes(job.spec.resources.memBytes), ago(job.createdAt, now)]),
  )
}

export function renderTasksTable(tasks: Task[], hosts: NodeHosts, now: number, color: boolean): string {
  if (tasks.length === 0) return 'No tasks.'
  return renderTable(
    ['TASK', 'JOB', 'INST', 'NODE', 'STATE', 'PORTS', 'RESTARTS', 'AGE', 'REASON'],
    tasks.map((t) => {
      const json = taskToJson(t, hosts)
      return [
        t.id.slice(0, 8),
        t.jobName,
        String(t.instance),
        t.nodeName ?? '-',
        taskState(t, color),
        json.ports.map((p) => `${p.endpoint ?? p.hostPort}${p.containerPort === 0 ? '' : `->${p.containerPort}`}/${p.protocol}`).join(' ') || '-',
        String(t.restarts),
        ago(t.createdAt, now),
        t.reason ?? '',
      ]
    }),
  )
}

function taskState(t: Task, color: boolean): string {
  const text = t.desired === 'stop' && t.state !== 'killed' ? `${t.state} (stopping)` : t.state
  if (t.state === 'running') return paint.ok(text, color)
  if (t.state === 'pending' || t.state === 'staging' || t.state === 'starting') return paint.warn(text, color)
  if (t.state === 'failed' || t.state === 'lost' || t.state === 'unreachable') return paint.error(text, color)
  return text
}


export function renderJobDetail(job: Job, tasks: Task[], events: ClusterEvent[], hosts: NodeHosts, now: number, color: boolean): string {
  const s = job.spec
  return [
    renderFields([
      ['Job', paint.bold(job.name, color)],
      ['Kind', `${job.kind} (${job.state})`],
      ['Image', s.image],
      ['Command', s.command ? JSON.stringify(s.command) : '(image default)'],
      ['Instances', `${countsOf(tasks, job.id).running}/${job.instances} running`],
      ['Resources', `cpus ${formatCpu(s.resources.cpuMilli)}, mem ${formatBytes(s.resources.memBytes)}, disk ${formatBytes(s.resources.diskBytes)}, gpus ${s.resources.gpus}`],
      ['Ports', s.ports.map((p) => `${p.containerPort}/${p.protocol}`).join(', ') || '-'],
      ['Constraints', s.constraints.map((c) => `${c.field}:${c.operator}${c.value === undefined ? '' : `:${c.value}`}`).join(', ') || '-'],
      ['Preferences', s.preferences.map((p) => `${p.field}=${p.value}`).join(', ') || '-'],
      ['Strategy', s.strategy ?? 'binpack (cluster default)'],
      ['Restart', `${s.restart.policy}${s.kind === 'batch' ? ` (max ${s.restart.maxRetries} retries)` : ''}`],
      ['Spec hash', job.specHash],
    ]),
    '',
    renderTasksTable(tasks, hosts, now, color),
    '',
    paint.bold('Recent events', color),
    events.length === 0 ? '-' : events.map((e) => `${new Date(e.at).toISOString()}  ${e.type.padEnd(18)} ${e.message}`).join('\n'),
  ].join('\n')
}

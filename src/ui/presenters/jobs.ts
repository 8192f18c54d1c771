/** Jobs, tasks and pass reports as JSON (the `--json` contract, docs/json.md) and as text. */
import type {ServiceAddress} from '../../core/edge/injected.js'
import {frontedPort} from '../../core/edge/service-ports.js'
import type {JobSpec} from '../../core/model/job.js'
import {hostPortText} from '../../core/model/node.js'
import {formatBytes, formatCpu} from '../../core/model/resources.js'
import type {JobStatus} from '../../core/model/task.js'
import type {JobSummary, ListedTask} from '../../core/services/jobs.js'
import type {ClusterEvent} from '../../core/model/event.js'
import {paint} from '../style.js'
import {renderFields, renderTable, tableLines} from '../table.js'
import type {ScheduleView} from '../../core/services/runs.js'
import {ago} from './nodes.js'
import {scheduleFields, type ScheduleJson, scheduleToJson} from './runs.js'

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
  /** Its job's stable address: `EDGE:SERVICE_PORT` at the first edge node that answers (null: no service port, or no edge node; docs/endpoints.md). */
  serviceAddress: string | null
  /** Its job's service port (null: none). */
  servicePort: number | null
  reason: string | null
  /** An ended task whose instance has no live task: when it restarts (null: it will not) and why. */
  waiting: {restartAt: string | null; why: string} | null
  restarts: number
  exitCode: number | null
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
}

/** Where things are reached: each node's published ports at the host part of its address (by node name), each service at its stable address (by job name). */
export interface Addresses {
  hosts: ReadonlyMap<string, string>
  services: ReadonlyMap<string, ServiceAddress>
}

export function taskToJson(t: ListedTask, where: Addresses): TaskJson {
  const host = t.nodeName ? where.hosts.get(t.nodeName) ?? null : null
  const service = where.services.get(t.jobName)
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
    ports: t.hostPorts.map((p) => ({...p, endpoint: host ? hostPortText(host, p.hostPort) : null})),
    serviceAddress: service?.address ?? null,
    servicePort: service?.servicePort ?? null,
    reason: t.reason,
    waiting: t.waiting ? {restartAt: iso(t.waiting.until), why: t.waiting.why} : null,
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
  /** active | stopped | completed (a batch job whose instances all finished) | failed (a batch job out of retries). */
  status: JobStatus
  /** Instances of a batch job that finished with the current spec. */
  finished: number
  specHash: string
  /** The stable port the service is reached at on every edge node (docs/endpoints.md); null: none. */
  servicePort: number | null
  createdAt: string
  updatedAt: string
  spec: JobSpecJson
  /** Scheduled and dependent jobs: schedule, next run times with their UTC offsets, parents, children, last run. */
  schedule?: ScheduleJson
}

export type JobSpecJson = Omit<JobSpec, 'resources'> & {cpus: number; memBytes: number; diskBytes: number; gpus: number}

export function specToJson(spec: JobSpec): JobSpecJson {
  const {resources, ...rest} = spec
  return {...rest, cpus: resources.cpuMilli / 1000, memBytes: resources.memBytes, diskBytes: resources.diskBytes, gpus: resources.gpus}
}

export function jobToJson({job, counts, status}: JobSummary, schedule?: ScheduleView): JobJson {
  return {
    ...(schedule ? {schedule: scheduleToJson(schedule)} : {}),
    id: job.id,
    name: job.name,
    kind: job.kind,
    state: job.state,
    image: job.spec.image,
    instances: job.instances,
    running: counts.running,
    pending: counts.pending,
    status,
    finished: counts.finished,
    specHash: job.specHash,
    servicePort: job.servicePort ?? null,
    createdAt: iso(job.createdAt)!,
    updatedAt: iso(job.updatedAt)!,
    spec: specToJson(job.spec),
  }
}

/** The scheduled and dependent jobs' table below `jobs`: schedule, parents, next and last run. */
export function renderScheduledJobs(jobs: readonly JobSummary[], schedules: ReadonlyMap<string, ScheduleView>, now: number): string {
  const names = new Map(jobs.map((j) => [j.job.id, j.job.name]))
  return renderTable(
    ['SCHEDULED JOB', 'SCHEDULE', 'AFTER', 'NEXT RUN', 'LAST RUN'],
    [...schedules].filter(([id]) => names.has(id)).map(([id, v]) => [names.get(id)!, v.schedule ? `${v.schedule}${v.timezone === 'UTC' ? '' : ` ${v.timezone}`}${v.suspended ? ' (suspended)' : ''}` : v.suspended ? '(suspended)' : '-', v.parents.join(',') || '-', v.next[0] ?? '-', v.lastRun ? `${v.lastRun.state} ${ago(v.lastRun.scheduledAt, now)}` : '-']),
  )
}

export const NO_JOBS = 'No jobs yet. Start one with `clusterctl run NAME --image IMG` or `clusterctl apply -f FILE`.'

/** The jobs table, line by line (a long listing is written as it renders). */
export function jobsTableLines(jobs: readonly JobSummary[], now: number): Iterable<string> {
  if (jobs.length === 0) return [NO_JOBS]
  return tableLines(
    ['NAME', 'KIND', 'STATE', 'RUNNING', 'PENDING', 'SERVICE PORT', 'IMAGE', 'CPUS', 'MEM', 'AGE'],
    jobs.map(({job, counts, status}) => [job.name, job.kind, status, `${counts.running}/${job.instances}`, String(counts.pending), servicePortText(job), job.spec.image, formatCpu(job.spec.resources.cpuMilli), formatBytes(job.spec.resources.memBytes), ago(job.createdAt, now)]),
  )
}

/** A job's service port and the container port it fronts (`10000->8080`), or '-'. */
/** `10000->8080`: the service port and the container port it fronts (`$PORTn` for one the app binds from its environment); '-' without one. */
export function servicePortText(job: Pick<JobSummary['job'], 'servicePort' | 'spec'>): string {
  const fronted = frontedPort(job.spec)
  return job.servicePort == null || fronted === null ? '-' : `${job.servicePort}->${fronted.containerPort === 0 ? `$PORT${job.spec.ports.indexOf(fronted)}` : fronted.containerPort}`
}

/** Where a service is reached, after its port: `at A B` (every edge node's address), that it has no edge node yet, or (not known) on every edge node. */
export function serviceAt(address: ServiceAddress | undefined): string {
  if (address === undefined) return 'on every edge node'
  return address.addresses.length === 0 ? 'on every edge node (none yet: `clusterctl node edge NAME`)' : `at ${address.addresses.join(' ')}`
}

export function renderTasksTable(tasks: readonly ListedTask[], where: Addresses, now: number, color: boolean): string {
  if (tasks.length === 0) return 'No tasks.'
  return renderTable(
    ['TASK', 'JOB', 'INST', 'NODE', 'STATE', 'PORTS', 'SERVICE', 'RESTARTS', 'AGE', 'REASON'],
    tasks.map((t) => {
      const json = taskToJson(t, where)
      return [
        t.id.slice(0, 8),
        t.jobName,
        String(t.instance),
        t.nodeName ?? '-',
        taskState(t, color),
        portsText(json),
        json.serviceAddress ?? (json.servicePort === null ? '-' : `:${json.servicePort}`),
        String(t.restarts),
        ago(t.createdAt, now),
        shortReason(t, now),
      ]
    }),
  )
}

/** Published ports as `endpoint->containerPort/proto`, or '-'. */
const portsText = (json: TaskJson): string => json.ports.map((p) => `${p.endpoint ?? p.hostPort}${p.containerPort === 0 ? '' : `->${p.containerPort}`}/${p.protocol}`).join(' ') || '-'

const REASON_WIDTH = 100

/** The REASON column: one line (a runtime's stderr can run to many); `inspect TASK` shows it whole. */
export function shortReason(t: ListedTask, now: number): string {
  const text = t.waiting ? `${t.waiting.until === null ? '' : t.waiting.until > now ? `restarts in ${Math.ceil((t.waiting.until - now) / 1000)}s: ` : ''}${t.waiting.why}` : t.reason ?? ''
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? ''
  const more = line !== text.trim()
  return line.length > REASON_WIDTH ? `${line.slice(0, REASON_WIDTH - 1)}…` : more ? `${line} …` : line
}

function taskState(t: ListedTask, color: boolean): string {
  const text = t.waiting ? `${t.state} (${t.waiting.until === null ? 'given up' : 'back-off'})` : t.desired === 'stop' && t.state !== 'killed' ? `${t.state} (stopping)` : t.state
  if (t.state === 'running') return paint.ok(text, color)
  if (t.state === 'pending' || t.state === 'staging' || t.state === 'starting') return paint.warn(text, color)
  if (t.state === 'failed' || t.state === 'lost' || t.state === 'unreachable') return paint.error(text, color)
  return text
}


export function renderJobDetail({job, counts, status}: JobSummary, tasks: readonly ListedTask[], events: ClusterEvent[], where: Addresses, now: number, color: boolean, schedule?: ScheduleView): string {
  const s = job.spec
  return [
    renderFields([
      ['Job', paint.bold(job.name, color)],
      ['Kind', `${job.kind} (${status})`],
      ['Image', s.image],
      ['Command', s.command ? JSON.stringify(s.command) : '(image default)'],
      ['Instances', `${counts.running}/${job.instances} running${counts.pending ? `, ${counts.pending} pending` : ''}${job.kind === 'batch' ? `, ${counts.finished}/${job.instances} finished` : ''}`],
      ['Resources', `cpus ${formatCpu(s.resources.cpuMilli)}, mem ${formatBytes(s.resources.memBytes)}, disk ${formatBytes(s.resources.diskBytes)}, gpus ${s.resources.gpus}`],
      ['Ports', s.ports.map((p) => `${p.containerPort}/${p.protocol}`).join(', ') || '-'],
      ['Service port', job.servicePort == null ? '-' : `${servicePortText(job)} ${serviceAt(where.services.get(job.name))} (\`clusterctl endpoints ${job.name}\`)`],
      ...(s.uses?.length ? [['Uses', `${s.uses.join(', ')} (their addresses as NAME_SERVICE_HOST, NAME_SERVICE_PORT, NAME_SERVICE_HOSTS)`] as [string, string]] : []),
      ['Constraints', s.constraints.map((c) => `${c.field}:${c.operator}${c.value === undefined ? '' : `:${c.value}`}`).join(', ') || '-'],
      ['Preferences', s.preferences.map((p) => `${p.field}=${p.value}`).join(', ') || '-'],
      ['Strategy', s.strategy ?? 'binpack (cluster default)'],
      ...(s.runPolicy ? [] : [['Restart', `${s.restart.policy}${s.kind === 'batch' ? ` (max ${s.restart.maxRetries} retries)` : ''}`] as [string, string]]),
      ...(s.runPolicy ? [['Runs', `retries ${s.runPolicy.retries}, deadline ${s.runPolicy.deadlineMs === null ? '-' : `${s.runPolicy.deadlineMs / 1000}s`}, concurrency ${s.runPolicy.concurrency}, catchUp ${s.runPolicy.catchUp}, startingDeadline ${s.runPolicy.startingDeadlineMs === null ? '-' : `${s.runPolicy.startingDeadlineMs / 1000}s`}`] as [string, string]] : []),
      ...(schedule ? scheduleFields(schedule) : []),
      ['Spec hash', job.specHash],
    ]),
    '',
    renderTasksTable(tasks, where, now, color),
    '',
    paint.bold('Recent events', color),
    events.length === 0 ? '-' : events.map((e) => `${new Date(e.at).toISOString()}  ${e.type.padEnd(18)} ${e.message}`).join('\n'),
  ].join('\n')
}

/** One task whole (`inspect TASK`): every field, the full reason (a runtime's stderr can run to many lines), its job counted over all its tasks. */
export function renderTaskDetail(t: ListedTask, job: JobSummary | null, events: readonly ClusterEvent[], where: Addresses, now: number, color: boolean): string {
  const json = taskToJson(t, where)
  const reason = t.waiting ? `${t.waiting.why}${t.waiting.until !== null && t.waiting.until > now ? ` (restarts in ${Math.ceil((t.waiting.until - now) / 1000)}s)` : ''}` : t.reason
  return [
    renderFields([
      ['Task', paint.bold(t.id, color)],
      ['Job', job ? `${job.job.name}.${t.instance} (job ${job.status}, ${job.counts.running}/${job.job.instances} running${job.counts.pending ? `, ${job.counts.pending} pending` : ''})` : `${t.jobName}.${t.instance}`],
      ['State', `${taskState(t, color)}, desired ${t.desired}`],
      ['Node', t.nodeName ?? '-'],
      ['Container', t.containerName ?? '-'],
      ['Ports', portsText(json)],
      ...(job?.job.servicePort == null ? [] : [['Service port', `${job.job.servicePort} ${serviceAt(where.services.get(job.job.name))} (\`clusterctl endpoints ${job.job.name}\`)`] as [string, string]]),
      ['Health', `${t.health}${t.healthMessage ? `: ${t.healthMessage}` : ''}`],
      ['Restarts', String(t.restarts)],
      ['Exit code', t.exitCode === null ? '-' : String(t.exitCode)],
      ['Replaces', t.replaces ?? '-'],
      ['Created', `${json.createdAt} (${ago(t.createdAt, now)} ago)`],
      ['Started', json.startedAt ?? '-'],
      ['Finished', json.finishedAt ?? '-'],
    ]),
    '',
    paint.bold('Reason', color),
    reason ?? '-',
    '',
    paint.bold('Recent events', color),
    events.length === 0 ? '-' : events.map((e) => `${new Date(e.at).toISOString()}  ${e.type.padEnd(18)} ${e.message}`).join('\n'),
  ].join('\n')
}

/**
 * The reconciler's pure half: desired state (jobs), recorded state (tasks) and
 * observed state (containers per node) in; named buckets of actions out.
 * No I/O, no clock reads: `now` is an argument. See README.md in this folder.
 */
import type {Job, Task} from '../model/task.js'
import {isLive} from '../model/task.js'
import type {ObservedContainer} from '../../runtime/types.js'

export interface NodeObservation {
  /** False when the node could not be asked: nothing is concluded about its containers. */
  ok: boolean
  /** False when the listing may be incomplete: missing containers are not concluded gone. */
  complete: boolean
  containers: ObservedContainer[]
  error?: string
}

export interface DiffInput {
  jobs: readonly Job[]
  /** Every live task, plus terminal ones of batch jobs (their completions count). */
  tasks: readonly Task[]
  /** By node id. Nodes without an entry were not observed this pass. */
  observed: ReadonlyMap<string, NodeObservation>
  now: number
}

/** A new task to create for one instance of a job. */
export interface NewTask {
  jobId: string
  instance: number
  /** Restarts so far of this instance (carried over from the task it replaces). */
  restarts: number
  why: string
}

export interface Buckets {
  /** Tasks to create (pending), one per missing instance. */
  place: NewTask[]
  /** Placed tasks whose container must be started: staging ones, or ones whose start was lost. */
  start: Task[]
  /** Tasks whose container runs already: record them as running (after a crash, a restart of the controller...). */
  adopt: Array<{task: Task; container: ObservedContainer}>
  /** Tasks whose container ended: record the end. */
  ended: Array<{task: Task; state: 'finished' | 'failed' | 'lost'; exitCode: number | null; reason: string}>
  /** Tasks to stop: scaled away, job stopped, replaced by a newer spec, duplicates. */
  stop: Array<{task: Task; reason: string}>
  /** Containers of this cluster that no live task owns. */
  orphans: Array<{nodeId: string; container: ObservedContainer}>
  /** Live tasks that need nothing. */
  ignore: Task[]
}

const STATE_RANK: Record<string, number> = {running: 0, starting: 1, staging: 2, unreachable: 3, pending: 4}

export function diff(input: DiffInput): Buckets {
  const out: Buckets = {place: [], start: [], adopt: [], ended: [], stop: [], orphans: [], ignore: []}
  const jobsById = new Map(input.jobs.map((j) => [j.id, j]))
  const liveAfterObservation: Task[] = []
  const ownedContainers = new Set<string>()
  const endedByInstance = new Map<string, Task[]>()

  // 1. What the observation says about each live task.
  for (const task of input.tasks) {
    if (!isLive(task.state)) {
      if (task.state === 'finished' || task.state === 'failed') push(endedByInstance, `${task.jobId}/${task.instance}`, task)
      continue
    }

    if (task.desired === 'stop') {
      if (task.containerName) ownedContainers.add(`${task.nodeId}/${task.containerName}`)
      out.stop.push({task, reason: task.reason ?? 'stop requested'})
      continue
    }

    const obs = task.nodeId ? input.observed.get(task.nodeId) : undefined
    const container = obs?.containers.find((c) => c.name === task.containerName)
    if (container) ownedContainers.add(`${task.nodeId}/${container.name}`)
    if (task.state === 'pending' || !obs || !obs.ok) {
      liveAfterObservation.push(task)
      continue
    }

    if (container && (container.state === 'running' || container.state === 'paused')) {
      if (task.state !== 'running') out.adopt.push({task, container})
      liveAfterObservation.push(task)
    } else if (container && container.state === 'exited') {
      const code = container.exitCode
      const job = jobsById.get(task.jobId)
      const ok = code === 0 && job?.kind === 'batch'
      const ended = {task, state: ok ? ('finished' as const) : ('failed' as const), exitCode: code, reason: `container exited${code === null ? '' : ` with code ${code}`}`}
      out.ended.push(ended)
      push(endedByInstance, `${task.jobId}/${task.instance}`, {...task, state: ended.state, exitCode: code})
    } else if (!container && (task.state === 'staging' || task.state === 'starting')) {
      out.start.push(task) // placed, but its start never happened (or was lost): start it
      liveAfterObservation.push(task)
    } else if (!container && obs.complete) {
      out.ended.push({task, state: 'lost', exitCode: null, reason: 'container disappeared from its node'})
      push(endedByInstance, `${task.jobId}/${task.instance}`, {...task, state: 'lost'})
    } else {
      liveAfterObservation.push(task) // a created container, or an incomplete listing: wait
      if (container?.state === 'created') out.start.push(task)
    }
  }

  // 2. Per job and instance: exactly the desired tasks, with the current spec.
  const liveByJob = new Map<string, Task[]>()
  for (const t of liveAfterObservation) push(liveByJob, t.jobId, t)
  for (const job of input.jobs) {
    const live = liveByJob.get(job.id) ?? []
    if (job.state === 'stopped') {
      for (const t of live) out.stop.push({task: t, reason: `job ${job.name} stopped`})
      continue
    }

    const byInstance = new Map<number, Task[]>()
    for (const t of live) push(byInstance, t.instance, t)
    for (const [instance, tasks] of byInstance) {
      if (instance >= job.instances) for (const t of tasks) out.stop.push({task: t, reason: `scaled to ${job.instances}`})
    }

    for (let instance = 0; instance < job.instances; instance++) {
      const tasks = (byInstance.get(instance) ?? []).slice().sort(byPreference)
      const current = tasks.filter((t) => t.specHash === job.specHash)
      const stale = tasks.filter((t) => t.specHash !== job.specHash)
      const ended = endedByInstance.get(`${job.id}/${instance}`) ?? []
      if (current.length === 0) {
        const decision = replacementFor(job, instance, ended)
        if (decision) out.place.push(decision)
      } else {
        for (const extra of current.slice(1)) out.stop.push({task: extra, reason: `duplicate of instance ${instance}`})
        if (current[0]!.state === 'running') for (const old of stale) out.stop.push({task: old, reason: 'replaced by the new spec'})
      }

      for (const t of current.slice(0, 1)) if (!out.start.includes(t) && !out.adopt.some((a) => a.task === t)) out.ignore.push(t)
    }
  }

  // 3. Containers of this cluster that no live task owns.
  for (const [nodeId, obs] of input.observed) {
    if (!obs.ok) continue
    for (const c of obs.containers) {
      if (!ownedContainers.has(`${nodeId}/${c.name}`) && !liveAfterObservation.some((t) => t.nodeId === nodeId && t.containerName === c.name)) {
        out.orphans.push({nodeId, container: c})
      }
    }
  }

  return out
}

/** Whether (and why) an instance without a current task gets a new one. */
function replacementFor(job: Job, instance: number, ended: Task[]): NewTask | null {
  const mine = ended.filter((t) => t.specHash === job.specHash).sort((a, b) => b.createdAt - a.createdAt)
  const last = mine[0]
  if (!last) return {jobId: job.id, instance, restarts: 0, why: 'missing'}
  if (job.kind === 'batch') {
    if (last.state === 'finished') return null
    const policy = job.spec.restart
    if (policy.policy === 'never' || last.restarts >= policy.maxRetries) return null
  }

  return {jobId: job.id, instance, restarts: last.restarts + 1, why: `replaces ${last.id.slice(0, 8)} (${last.state})`}
}

function byPreference(a: Task, b: Task): number {
  return (STATE_RANK[a.state] ?? 9) - (STATE_RANK[b.state] ?? 9) || a.createdAt - b.createdAt
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

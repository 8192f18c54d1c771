/**
 * The reconciler's pure half: desired state (jobs), recorded state (tasks) and
 * observed state (containers per node) in; named buckets of actions out.
 * No I/O, no clock reads: `now` is an argument. See README.md in this folder.
 */
import {isRunDriven} from '../model/job.js'
import type {AdminState, NodeState} from '../model/node.js'
import type {Job, Task} from '../model/task.js'
import {isLive} from '../model/task.js'
import {localVolumesOf, waitsForNode} from '../model/volume.js'
import {isAvailable, isReady} from './health.js'
import {isGivenUp} from './heartbeat.js'
import type {ObservedContainer} from '../../runtime/types.js'

export interface NodeObservation {
  /** False when the node could not be asked: nothing is concluded about its containers. */
  ok: boolean
  /** False when the listing may be incomplete: missing containers are not concluded gone. */
  complete: boolean
  containers: ObservedContainer[]
  /** The cluster's networks on the node (podman), when they were listed. */
  networks?: string[]
  error?: string
}

export interface DiffInput {
  jobs: readonly Job[]
  /** Every live task, plus terminal ones of batch jobs (their completions count). */
  tasks: readonly Task[]
  /** By node id. Nodes without an entry were not observed this pass. */
  observed: ReadonlyMap<string, NodeObservation>
  /**
   * Node states after this pass's heartbeats, by node id. Tasks on a down or
   * unreachable node are given up on (replaced elsewhere); tasks on a draining node
   * are moved. Absent: every node counts as ready.
   */
  nodes?: ReadonlyMap<string, {name: string; state: NodeState; adminState: AdminState; machine?: string}>
  /** Failures per instance (`jobId/instance`) and node name in the recent past: a node that keeps failing an instance is avoided. */
  recentFailures?: ReadonlyMap<string, ReadonlyMap<string, number>>
  now: number
  backoff?: BackoffSettings
  /** Jobs whose rollout waits in its canary phase: their old tasks stay beside the canaries (rollout.ts). */
  canaryJobs?: ReadonlySet<string>
}

export interface BackoffSettings {
  /** First restart delay; doubles per consecutive failure. Default 1 s. */
  baseMs: number
  /** Upper bound of the delay. Default 60 s. */
  maxMs: number
  /** A task that ran this long before failing restarts the back-off at its base. Default 60 s. */
  resetAfterMs: number
  /** Failures of one instance on one node (within the window the caller counts) before that node is avoided. Default 3. */
  avoidAfterFailures: number
}

export const DEFAULT_BACKOFF: Readonly<BackoffSettings> = Object.freeze({baseMs: 1_000, maxMs: 60_000, resetAfterMs: 60_000, avoidAfterFailures: 3})

/** A new task to create for one instance of a job. */
export interface NewTask {
  jobId: string
  instance: number
  /** Restarts so far of this instance (carried over from the task it replaces). */
  restarts: number
  why: string
  /** A make-before-break move: the task this one replaces (it stops once this one is ready). */
  replaces?: string
  /** Node names to keep this task off (the instance kept failing there). */
  avoidNodes?: string[]
}

export interface Buckets {
  /** Tasks to create (pending), one per missing instance, plus moves off draining nodes. */
  place: NewTask[]
  /**
   * Instances that still run an older spec and have no task of the current one: the
   * rollout planner (rollout.ts) decides which get their new task now, within the
   * deployment's bounds, and which old tasks stop first.
   */
  roll: Array<NewTask & {old: Task[]}>
  /** Instances whose replacement waits for its restart back-off to pass. */
  backoff: Array<{jobId: string; instance: number; until: number; why: string}>
  /** Placed tasks whose container must be started: staging ones, or ones whose start was lost. */
  start: Task[]
  /** Tasks whose container runs already: record them as running (after a crash, a restart of the controller...). */
  adopt: Array<{task: Task; container: ObservedContainer}>
  /** Tasks whose container ended, or that failed their health checks: record the end (and stop the container when `stopContainer`). */
  ended: Array<{task: Task; state: 'finished' | 'failed' | 'lost'; exitCode: number | null; reason: string; stopContainer?: boolean}>
  /** Tasks on a node that went down or unreachable: record them unreachable; their instances get replacements. */
  unreachable: Task[]
  /** Tasks to stop: scaled away, job stopped, replaced by a newer spec or a move, duplicates, surplus after a partition. */
  stop: Array<{task: Task; reason: string}>
  /** Containers of this cluster that no live task owns. */
  orphans: Array<{nodeId: string; container: ObservedContainer}>
  /** Live tasks that need nothing. */
  ignore: Task[]
}

/**
 * Which of several live tasks of one instance is kept (lower first): one that runs,
 * then one that came back from a partition with its container running, then one
 * being started, then one on a lost node, then one not yet placed. Ties: the oldest.
 * So after a partition heals, the replacement that ran meanwhile is kept and the
 * task that comes back is the surplus stopped (docs/decisions/0006).
 */
const RANK = {running: 0, returned: 1, starting: 2, staging: 3, unreachable: 4, pending: 5} as const

export function diff(input: DiffInput): Buckets {
  const out: Buckets = {place: [], roll: [], backoff: [], start: [], adopt: [], ended: [], unreachable: [], stop: [], orphans: [], ignore: []}
  const backoff = input.backoff ?? DEFAULT_BACKOFF
  const jobsById = new Map(input.jobs.map((j) => [j.id, j]))
  const liveAfterObservation: Task[] = []
  const ownedContainers = new Set<string>()
  const endedByInstance = new Map<string, Task[]>()
  /** Effective rank of each live task, by id (see RANK). */
  const rank = new Map<string, number>()
  /** Tasks on given-up nodes (down, unreachable) whose container was not seen since: they serve nobody. */
  const givenUp = new Set<string>()
  const adoptable = new Map<string, ObservedContainer>()
  const nodeOf = (id: string | null) => (id ? input.nodes?.get(id) : undefined)
  // Nodes on one machine (several names for one address) list the same containers: a
  // container is owned when a task on any of them owns it.
  const owner = (nodeId: string | null, name: string): string => `${(nodeId ? input.nodes?.get(nodeId)?.machine : undefined) ?? nodeId}/${name}`

  // 1. What the observation says about each live task.
  for (const task of input.tasks) {
    if (!isLive(task.state)) {
      if (task.state === 'finished' || task.state === 'failed' || task.state === 'lost') push(endedByInstance, `${task.jobId}/${task.instance}`, task)
      continue
    }

    if (task.desired === 'stop') {
      if (task.containerName) ownedContainers.add(owner(task.nodeId, task.containerName))
      out.stop.push({task, reason: task.reason ?? 'stop requested'})
      continue
    }

    const node = nodeOf(task.nodeId)
    const obs = task.nodeId ? input.observed.get(task.nodeId) : undefined
    const container = obs?.ok ? obs.containers.find((c) => c.name === task.containerName) : undefined
    if (container) ownedContainers.add(owner(task.nodeId, container.name))
    if (task.state === 'pending') {
      rank.set(task.id, RANK.pending)
      liveAfterObservation.push(task)
      continue
    }

    if (node && isGivenUp(node.state)) {
      if (task.state !== 'unreachable') out.unreachable.push(task)
      rank.set(task.id, RANK.unreachable)
      givenUp.add(task.id)
      liveAfterObservation.push(task)
      continue
    }

    if (!obs || !obs.ok) {
      rank.set(task.id, task.state === 'unreachable' ? RANK.unreachable : RANK[task.state as keyof typeof RANK] ?? RANK.staging)
      if (task.state === 'unreachable') givenUp.add(task.id)
      liveAfterObservation.push(task)
      continue
    }

    if (container && (container.state === 'running' || container.state === 'paused')) {
      if (task.state === 'unreachable') {
        rank.set(task.id, RANK.returned)
        adoptable.set(task.id, container) // adopted only if it is the one kept (step 2)
      } else {
        rank.set(task.id, task.state === 'running' ? RANK.running : RANK.starting)
        if (task.state !== 'running') out.adopt.push({task, container})
      }

      if (task.health === 'unhealthy' && task.state === 'running') {
        out.ended.push({task, state: 'failed', exitCode: null, reason: `unhealthy: ${task.healthMessage ?? 'failed its health checks'}`, stopContainer: true})
        push(endedByInstance, `${task.jobId}/${task.instance}`, {...task, state: 'failed', finishedAt: input.now, reason: 'unhealthy'})
        continue
      }

      liveAfterObservation.push(task)
    } else if (container && container.state === 'exited') {
      const code = container.exitCode
      const job = jobsById.get(task.jobId)
      const ok = code === 0 && job?.kind === 'batch'
      // A stopped job (stop, rm) keeps nothing on its nodes: its container goes now, not after the orphan grace.
      const ended = {task, state: ok ? ('finished' as const) : ('failed' as const), exitCode: code, reason: `container exited${code === null ? '' : ` with code ${code}`}`, ...(job?.state === 'stopped' ? {stopContainer: true} : {})}
      out.ended.push(ended)
      push(endedByInstance, `${task.jobId}/${task.instance}`, {...task, state: ended.state, exitCode: code, finishedAt: input.now, reason: ended.reason})
    } else if (!container && (task.state === 'staging' || task.state === 'starting')) {
      out.start.push(task) // placed, but its start never happened (or was lost): start it
      rank.set(task.id, RANK.staging)
      liveAfterObservation.push(task)
    } else if (!container && obs.complete) {
      out.ended.push({task, state: 'lost', exitCode: null, reason: task.state === 'unreachable' ? 'its node came back without its container' : 'container disappeared from its node'})
      push(endedByInstance, `${task.jobId}/${task.instance}`, {...task, state: 'lost', finishedAt: input.now})
    } else {
      rank.set(task.id, RANK.staging)
      liveAfterObservation.push(task) // a created container, or an incomplete listing: wait
      if (container?.state === 'created') out.start.push(task)
    }
  }

  // 2. Per job and instance: exactly the desired tasks, with the current spec.
  const liveByJob = new Map<string, Task[]>()
  for (const t of liveAfterObservation) push(liveByJob, t.jobId, t)
  const handled = new Set<Task>([...out.start, ...out.adopt.map((a) => a.task)])
  for (const job of input.jobs) {
    const live = liveByJob.get(job.id) ?? []
    if (job.state === 'stopped') {
      for (const t of live) out.stop.push({task: t, reason: `job ${job.name} stopped`})
      continue
    }

    // Scheduled and dependent jobs: their runs (src/core/schedule/runs.ts) create and stop their tasks.
    if (isRunDriven(job.spec)) {
      for (const t of live) if (!handled.has(t)) out.ignore.push(t)
      continue
    }

    const byInstance = new Map<number, Task[]>()
    for (const t of live) push(byInstance, t.instance, t)
    for (const [instance, tasks] of byInstance) {
      if (instance >= job.instances) for (const t of tasks) out.stop.push({task: t, reason: `scaled to ${job.instances}`})
    }

    const check = job.spec.healthCheck
    for (let instance = 0; instance < job.instances; instance++) {
      const tasks = byInstance.get(instance) ?? []
      let current = tasks.filter((t) => t.specHash === job.specHash)
      const stale = tasks.filter((t) => t.specHash !== job.specHash)

      // Moves in flight (better node, drain): the old task stops once its replacement is ready.
      const inFlight = new Set<string>()
      for (const fresh of current) {
        const old = fresh.replaces ? tasks.find((t) => t.id === fresh.replaces) : undefined
        if (!old) continue
        // A move not placed when it was planned, or a drain given up: cancelled, never placed later.
        if (fresh.state === 'pending' && nodeOf(old.nodeId)?.adminState !== 'draining') {
          out.stop.push({task: fresh, reason: `not placed: the move off ${old.nodeName ?? 'its node'} is given up (that node is not draining)`})
          current = current.filter((t) => t !== fresh)
          continue
        }

        if (isReady(fresh, check)) {
          out.stop.push({task: old, reason: supersededBecause(old, fresh, fresh.nodeName ?? nodeOf(fresh.nodeId)?.name ?? null)!})
          current = current.filter((t) => t !== old)
        } else {
          inFlight.add(old.id)
          current = current.filter((t) => t !== fresh)
          if (!handled.has(fresh)) out.ignore.push(fresh)
        }
      }

      const serving = current.filter((t) => !givenUp.has(t.id)).sort((a, b) => (rank.get(a.id) ?? 9) - (rank.get(b.id) ?? 9) || a.createdAt - b.createdAt)
      const keeper = serving[0]
      if (!keeper) {
        const lost = current.find((t) => givenUp.has(t.id))
        const lostNode = lost ? nodeOf(lost.nodeId) : undefined
        if (lost) {
          const avoid = avoidedNodes(input.recentFailures, job.id, instance, backoff)
          out.place.push({jobId: job.id, instance, restarts: lost.restarts + 1, why: `replaces ${lost.id.slice(0, 8)} (its node ${lostNode?.name ?? lost.nodeName ?? '?'} is ${lostNode?.state ?? 'unreachable'})`, ...(avoid.length ? {avoidNodes: avoid} : {})})
          continue
        }

        const ended = endedByInstance.get(`${job.id}/${instance}`) ?? []
        const decision = replacementFor(job, instance, ended, input, backoff)
        const old = stale.filter((t) => !givenUp.has(t.id))
        if (decision && 'until' in decision) out.backoff.push(decision)
        else if (decision && old.length > 0) out.roll.push({...decision, why: `rollout: replaces ${old[0]!.id.slice(0, 8)} (an older spec)`, old})
        else if (decision) out.place.push(decision)
      } else {
        for (const extra of serving.slice(1)) out.stop.push({task: extra, reason: adoptable.has(extra.id) ? 'surplus: its instance was replaced while its node was unreachable' : `duplicate of instance ${instance}`})
        const keeperRuns = keeper.state === 'running' || adoptable.has(keeper.id)
        // A task on a lost node whose instance runs elsewhere: stop it when (if) its node answers again.
        if (keeperRuns) for (const lost of current.filter((t) => givenUp.has(t.id) && t.desired !== 'stop')) out.stop.push({task: lost, reason: 'surplus: its instance was replaced while its node was unreachable'})
        if ((isAvailable(keeper, job.spec, input.now) || (adoptable.has(keeper.id) && check === null)) && !input.canaryJobs?.has(job.id)) for (const old of stale) out.stop.push({task: old, reason: supersededBecause(old, keeper, null)!})
        const container = adoptable.get(keeper.id)
        if (container) out.adopt.push({task: keeper, container})
        else if (!handled.has(keeper)) out.ignore.push(keeper)

        // Drain: a task on a draining node gets a replacement elsewhere (unless one is in flight). One whose local
        // volume is there cannot have one (its data is there): it stops, cleanly, before the maintenance, and its
        // instance waits for the node (blocked, volumes.ts) until `node uncordon` (docs/volumes.md).
        const node = nodeOf(keeper.nodeId)
        if (node && node.adminState === 'draining' && node.state === 'draining' && !inFlight.has(keeper.id) && keeper.state !== 'pending') {
          const local = localVolumesOf(job.spec.volumes, instance).map((v) => v.name)
          if (local.length > 0) out.stop.push({task: keeper, reason: `drain of ${node.name}: ${waitsForNode(node.name, local)}`})
          else out.place.push({jobId: job.id, instance, restarts: keeper.restarts, why: `drain of ${node.name}`, replaces: keeper.id})
        }
      }
    }
  }

  // One stop per task, with the first reason found.
  const seen = new Set<string>()
  out.stop = out.stop.filter((s) => !seen.has(s.task.id) && seen.add(s.task.id))

  // 3. Containers of this cluster that no live task owns.
  const live = new Set(liveAfterObservation.filter((t) => t.containerName).map((t) => owner(t.nodeId, t.containerName!)))
  for (const [nodeId, obs] of input.observed) {
    if (!obs.ok) continue
    for (const c of obs.containers) {
      if (!ownedContainers.has(owner(nodeId, c.name)) && !live.has(owner(nodeId, c.name))) {
        out.orphans.push({nodeId, container: c})
      }
    }
  }

  return out
}

/** Whether (and when, and why) an instance without a serving task gets a new one. */
function replacementFor(job: Job, instance: number, ended: Task[], input: DiffInput, backoff: BackoffSettings): NewTask | {jobId: string; instance: number; until: number; why: string} | null {
  const mine = ended.filter((t) => t.specHash === job.specHash).sort((a, b) => b.createdAt - a.createdAt)
  const last = mine[0]
  if (!last) return {jobId: job.id, instance, restarts: 0, why: 'missing'}
  const outlook = restartOutlook(job, last, input.now, backoff)
  if (outlook.kind === 'done' || outlook.kind === 'gave-up') return null
  if (outlook.kind === 'back-off') return {jobId: job.id, instance, until: outlook.until, why: outlook.why}
  const avoid = avoidedNodes(input.recentFailures, job.id, instance, backoff)
  const why = `replaces ${last.id.slice(0, 8)} (${last.state})${avoid.length ? `, avoiding ${avoid.join(', ')} where it failed ${backoff.avoidAfterFailures}+ times` : ''}`
  return {jobId: job.id, instance, restarts: last.restarts + 1, why, ...(avoid.length ? {avoidNodes: avoid} : {})}
}

/** What becomes of an instance whose last task (of the current spec) ended, with nothing live. */
export type RestartOutlook =
  | {kind: 'done'}
  | {kind: 'gave-up'; why: string}
  | {kind: 'back-off'; until: number; why: string}
  | {kind: 'restart'}

export function restartOutlook(job: Pick<Job, 'kind' | 'spec'>, last: Pick<Task, 'state' | 'restarts' | 'reason' | 'startedAt' | 'finishedAt'>, now: number, backoff: BackoffSettings = DEFAULT_BACKOFF): RestartOutlook {
  if (job.kind === 'batch') {
    if (last.state === 'finished') return {kind: 'done'}
    const policy = job.spec.restart
    if (policy.policy === 'never') return {kind: 'gave-up', why: `not restarted (restart policy never) after ${last.reason ?? 'a failure'}`}
    if (last.restarts >= policy.maxRetries) return {kind: 'gave-up', why: `gave up after ${last.restarts} restart${last.restarts === 1 ? '' : 's'} (max ${policy.maxRetries}): ${last.reason ?? 'a failure'}`}
  }

  if (last.state !== 'failed') return {kind: 'restart'} // lost with its node: not the task's fault, no back-off
  const until = (last.finishedAt ?? now) + backoffDelay(last, backoff)
  if (now < until) return {kind: 'back-off', until, why: `restart back-off after ${last.reason ?? 'a failure'}`}
  return {kind: 'restart'}
}

/**
 * Make-before-break, the one rule: why a ready task `fresh` of an instance lets `old`
 * (same job and instance) stop: it is the task a move or drain replaces, or it runs an
 * older spec. Null: `old` stays. Used by the diff and by the pass's same-pass stops.
 */
export function supersededBecause(old: Pick<Task, 'id' | 'specHash'>, fresh: Pick<Task, 'replaces' | 'specHash'>, freshNodeName: string | null): string | null {
  if (old.id === fresh.replaces) return `moved to ${freshNodeName ?? 'another node'}`
  if (old.specHash !== fresh.specHash) return 'replaced by the new spec'
  return null
}

/** Node names where an instance failed `avoidAfterFailures` times or more recently: its next task keeps off them. */
export function avoidedNodes(failures: DiffInput['recentFailures'], jobId: string, instance: number, backoff: BackoffSettings = DEFAULT_BACKOFF): string[] {
  const byNode = failures?.get(`${jobId}/${instance}`)
  if (!byNode) return []
  return [...byNode].filter(([, n]) => n >= backoff.avoidAfterFailures).map(([name]) => name).sort()
}

/** Exponential: base, 2x base, 4x base ... up to max; a task that ran resetAfter or longer starts again at base. */
export function backoffDelay(last: Pick<Task, 'restarts' | 'startedAt' | 'finishedAt'>, settings: BackoffSettings = DEFAULT_BACKOFF): number {
  const ranFor = last.startedAt !== null && last.finishedAt !== null ? last.finishedAt - last.startedAt : 0
  if (ranFor >= settings.resetAfterMs) return settings.baseMs
  return Math.min(settings.maxMs, settings.baseMs * 2 ** Math.min(last.restarts, 20))
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/**
 * Rollouts (pure): how a changed spec replaces a job's instances within its bounds, and
 * how its deployment is judged. The diff puts every instance that still runs an older
 * spec (and has no task of the current one) in `roll`; `planRollout` decides, from what
 * is observed now (level-triggered: nothing depends on an earlier pass), which of them
 * get their new task this pass and which old tasks stop first:
 *
 *   - at most N + maxSurge tasks exist: live tasks count until they are gone, those
 *     stopping in this pass too (starts happen before stops in a pass), and so does an
 *     instance waiting out its restart back-off (it comes back by itself);
 *   - at least N - maxUnavailable instances stay available (isAvailable: ready for
 *     minHealthyTime): an available old task is stopped ahead of its replacement only
 *     within that budget, unavailable ones first, then those on the nodes holding the
 *     most of the job's tasks (the worst placed), then the highest instance.
 *   - an instance left with two old tasks by a superseded rollout (its older version's
 *     and the superseded version's) keeps one (available first, then the newest) and the
 *     other stops: without it, maxUnavailable 0 and a full surge would wait forever.
 *
 * An old task whose replacement became available stops by the diff's make-before-break
 * rule. `judgeDeployment` says whether the job's open deployment progressed, succeeded
 * or failed (failure budget, healthyDeadline, progressDeadline). See docs/deployments.md.
 */
import {type Deployment, inCanaryPhase} from '../model/deployment.js'
import {rolloutBounds} from '../model/job.js'
import {isLive, type Job, type Task} from '../model/task.js'
import type {Buckets, NewTask} from './diff.js'
import {isAvailable} from './health.js'

export interface RolloutInput {
  job: Job
  /** The job's tasks as observed this pass (live ones count; ended ones are in `ended`). */
  tasks: readonly Task[]
  buckets: Pick<Buckets, 'place' | 'roll' | 'stop' | 'ended' | 'unreachable'> & Partial<Pick<Buckets, 'backoff'>>
  /** The job's open deployment: paused holds every roll; in its canary phase only the canaries start. */
  deployment?: Pick<Deployment, 'state' | 'cause' | 'promoted'> | undefined
  now: number
}

export interface RolloutPlan {
  /** New tasks of the current spec placed this pass. */
  place: NewTask[]
  /** Old tasks stopped ahead of their replacement (break-before-make, within maxUnavailable). */
  stop: Array<{task: Task; reason: string}>
  /** Instances left waiting this pass, and why (for the report). */
  waiting: Array<{instance: number; why: string}>
  bounds: {desired: number; maxUnavailable: number; maxSurge: number; existing: number; available: number}
}

/** One job's rollout step this pass. */
export function planRollout(input: RolloutInput): RolloutPlan {
  const {job, buckets, now} = input
  const n = job.instances
  const {maxUnavailable, maxSurge} = rolloutBounds(job.spec.upgrade, n)
  const rolls = buckets.roll.filter((r) => r.jobId === job.id)
  const ended = new Set(buckets.ended.map((e) => e.task.id))
  const gone = new Set(buckets.unreachable.map((t) => t.id))
  const stopping = new Set(buckets.stop.map((s) => s.task.id))
  const live = input.tasks.filter((t) => t.jobId === job.id && isLive(t.state) && !ended.has(t.id) && !gone.has(t.id) && t.state !== 'unreachable')
  // minHealthyTime proves a new instance; an old one serves as long as it is ready (a young old task is no spare)
  const oldSpec = {...job.spec, upgrade: {...job.spec.upgrade, minHealthyTimeMs: 0}}
  const available = (t: Task): boolean => isAvailable(t, t.specHash === job.specHash ? job.spec : oldSpec, now)
  const availableInstances = new Set(live.filter((t) => t.instance < n && !stopping.has(t.id) && available(t)).map((t) => t.instance))
  // An instance waiting out its restart back-off comes back by itself, outside the rollout: it counts as existing
  // already, or a surge started meanwhile would leave N + maxSurge + 1 when it does.
  const backingOff = new Set((buckets.backoff ?? []).filter((b) => b.jobId === job.id && b.instance < n).map((b) => b.instance)).size
  let existing = live.length + buckets.place.filter((p) => p.jobId === job.id).length + backingOff
  let stopBudget = availableInstances.size - (n - maxUnavailable)
  const bounds = {desired: n, maxUnavailable, maxSurge, existing, available: availableInstances.size}
  const out: RolloutPlan = {place: [], stop: [], waiting: [], bounds}
  if (rolls.length === 0) return out
  const state = input.deployment?.state
  if (state === 'paused' || state === 'failed') {
    for (const r of rolls) out.waiting.push({instance: r.instance, why: `the deployment is ${state}`})
    return out
  }

  // An instance with more than one old task (a rollout superseded while it replaced this instance: the
  // older version's task and the superseded version's) keeps one, available first, then the newest, and
  // stops the others: they cost no availability, and they hold the surge room the new version needs.
  const surplus = new Set<string>()
  for (const r of rolls) {
    const keep = [...r.old].filter((t) => !stopping.has(t.id)).sort((a, b) => Number(available(b)) - Number(available(a)) || b.createdAt - a.createdAt)
    for (const t of keep.slice(1)) {
      surplus.add(t.id)
      out.stop.push({task: t, reason: `rollout: a second task of instance ${r.instance} on an older spec (${keep[0]!.id.slice(0, 8)} serves it until its replacement is available)`})
    }
  }

  if (input.deployment && inCanaryPhase(input.deployment, job.spec.upgrade)) {
    // canaries: up to `canary` instances get their new task beside the old one; nothing old stops
    const canaries = new Set(live.filter((t) => t.specHash === job.specHash).map((t) => t.instance)).size
    const more = Math.max(0, job.spec.upgrade.canary - canaries)
    const sorted = [...rolls].sort((a, b) => a.instance - b.instance)
    for (const {old: _old, ...task} of sorted.slice(0, more)) out.place.push(task)
    for (const r of sorted.slice(more)) out.waiting.push({instance: r.instance, why: `canary: waiting for \`clusterctl rollout promote ${job.name}\``})
    return out
  }

  const perNode = new Map<string, number>()
  for (const t of live) if (t.nodeId) perNode.set(t.nodeId, (perNode.get(t.nodeId) ?? 0) + 1)
  const oldAvailable = (r: (typeof rolls)[number]): boolean => r.old.some((t) => available(t))
  const crowding = (r: (typeof rolls)[number]): number => Math.max(0, ...r.old.map((t) => (t.nodeId ? perNode.get(t.nodeId) ?? 0 : 0)))
  const order = [...rolls].sort((a, b) => Number(oldAvailable(a)) - Number(oldAvailable(b)) || crowding(b) - crowding(a) || b.instance - a.instance)
  for (const r of order) {
    const {old, ...task} = r
    if (existing < n + maxSurge) {
      out.place.push(task)
      existing++
      continue
    }

    const down = oldAvailable(r)
    if (down && stopBudget <= 0) {
      out.waiting.push({instance: r.instance, why: `at most ${maxUnavailable} of ${n} may be unavailable and ${n + maxSurge} exist`})
      continue
    }

    if (down) stopBudget--
    for (const t of old) if (!stopping.has(t.id) && !surplus.has(t.id)) out.stop.push({task: t, reason: `rollout: stopped before its replacement starts (maxSurge ${maxSurge}${down ? `, maxUnavailable ${maxUnavailable}` : ', it was not available'})`})
  }

  return out
}

export interface DeploymentJudgement {
  /** New instances (of the deployment's spec) available now. */
  available: number
  progressAt: number
  /** Its canaries have all been available for autoPromote: promote it. */
  promote?: true
  outcome: {state: 'succeeded' | 'failed'; reason: string} | null
}

/**
 * An open deployment judged against what is observed: succeeded when every instance
 * runs an available task of its spec and no older task is left; failed past its failure
 * budget (failed tasks of its version), when a new task was not available within
 * healthyDeadline of its creation, or after progressDeadline without an instance
 * becoming available. A paused deployment's clocks do not run.
 */
export function judgeDeployment(dep: Pick<Deployment, 'state' | 'specHash' | 'available' | 'progressAt' | 'cause' | 'promoted'>, job: Pick<Job, 'instances' | 'spec'>, tasks: readonly Task[], failures: number, now: number): DeploymentJudgement {
  const n = job.instances
  const upgrade = job.spec.upgrade
  const live = tasks.filter((t) => isLive(t.state) && t.desired === 'run')
  const fresh = live.filter((t) => t.specHash === dep.specHash)
  const availableNow = new Set(fresh.filter((t) => t.instance < n && isAvailable(t, job.spec, now)).map((t) => t.instance)).size
  const progressAt = availableNow > dep.available ? now : dep.progressAt
  const result = (outcome: DeploymentJudgement['outcome']): DeploymentJudgement => ({available: availableNow, progressAt, outcome})
  if (availableNow >= n && live.every((t) => t.specHash === dep.specHash)) return result({state: 'succeeded', reason: `${n} of ${n} instances available`})
  if (dep.state !== 'running') return result(null)
  if (failures > upgrade.maxFailedInstances) return result({state: 'failed', reason: `${failures} new instance${failures === 1 ? '' : 's'} failed (failure budget ${upgrade.maxFailedInstances})`})
  const late = fresh.find((t) => t.instance < n && !isAvailable(t, job.spec, now) && now - t.createdAt > upgrade.healthyDeadlineMs)
  if (late) return result({state: 'failed', reason: `instance ${late.instance} was not healthy within ${upgrade.healthyDeadlineMs / 1000}s (healthyDeadline)`})
  if (inCanaryPhase(dep, upgrade) && availableNow >= Math.min(upgrade.canary, n)) {
    // every canary is available: waiting for the operator is no lack of progress
    const promote = upgrade.autoPromoteMs !== null && now - progressAt >= upgrade.autoPromoteMs
    return {...result(null), ...(promote ? {promote: true as const} : {})}
  }

  if (now - progressAt > upgrade.progressDeadlineMs) return result({state: 'failed', reason: `no instance became available for ${upgrade.progressDeadlineMs / 1000}s (progressDeadline)`})
  return result(null)
}

/** Every rolling job's step this pass, merged: the places and early stops, and what waits. */
export function planRollouts(jobs: readonly Job[], tasks: readonly Task[], buckets: RolloutInput['buckets'], deployments: ReadonlyMap<string, Pick<Deployment, 'state' | 'cause' | 'promoted'>>, now: number): {place: NewTask[]; stop: Array<{task: Task; reason: string}>; waiting: Array<{jobId: string; instance: number; why: string}>} {
  const out = {place: [] as NewTask[], stop: [] as Array<{task: Task; reason: string}>, waiting: [] as Array<{jobId: string; instance: number; why: string}>}
  const rolling = new Set(buckets.roll.map((r) => r.jobId))
  const tasksOf = new Map<string, Task[]>()
  for (const t of tasks) {
    if (!rolling.has(t.jobId)) continue
    const list = tasksOf.get(t.jobId)
    if (list) list.push(t)
    else tasksOf.set(t.jobId, [t])
  }

  for (const job of jobs) {
    if (!rolling.has(job.id)) continue
    const plan = planRollout({job, tasks: tasksOf.get(job.id) ?? [], buckets, deployment: deployments.get(job.id), now})
    out.place.push(...plan.place)
    out.stop.push(...plan.stop)
    out.waiting.push(...plan.waiting.map((w) => ({jobId: job.id, ...w})))
  }

  return out
}

/** What a failed deployment leads to: a rollback to the last stable version when it rolls back automatically and there is one, else a pause for the operator. */
export function afterFailure(upgrade: Pick<Job['spec']['upgrade'], 'autoRollback'>, stableVersion: number | null): {action: 'rollback'; to: number} | {action: 'pause'; why: string} {
  if (upgrade.autoRollback && stableVersion !== null) return {action: 'rollback', to: stableVersion}
  return {action: 'pause', why: upgrade.autoRollback ? 'no earlier version completed to roll back to' : 'autoRollback is off'}
}

export interface RolloutStep {
  /** New instances started in this step. */
  start: number
  /** Old instances stopped in this step (after their replacement was available, or ahead of it). */
  stop: number
  /** The fewest available instances during the step. */
  lowestAvailable: number
}

/**
 * The steps a rollout of `job` takes from N old instances, all available, to N new ones,
 * by planRollout itself (what `apply --dry-run` prints): each step starts what the bounds
 * allow, the instances started in a step are available in the next, and an old instance
 * stops once its replacement is available (or ahead of it, within maxUnavailable).
 */
export function rolloutSteps(job: Job, now = 0): RolloutStep[] {
  const n = job.instances
  let seq = 0
  const task = (instance: number, specHash: string, state: Task['state']): Task => ({
    id: `step-${++seq}`, jobId: job.id, jobName: job.name, instance, nodeId: null, nodeName: null, state, desired: 'run', health: 'healthy', healthFailures: 0, healthCheckedAt: null, healthMessage: null,
    replaces: null, containerName: null, hostPorts: [], specHash, reason: null, reasonData: null, restarts: 0, exitCode: null, createdAt: now, updatedAt: now, startedAt: now - job.spec.upgrade.minHealthyTimeMs, finishedAt: null,
    readyAt: now - job.spec.upgrade.minHealthyTimeMs, readiness: 'ready', readinessAt: now - job.spec.upgrade.minHealthyTimeMs,
  })
  let tasks: Task[] = Array.from({length: n}, (_, i) => task(i, `${job.specHash}-old`, 'running'))
  const steps: RolloutStep[] = []
  for (let guard = 0; guard < 4 * n + 4 && (tasks.length < n || tasks.some((t) => t.specHash !== job.specHash || t.state !== 'running')); guard++) {
    const isNew = (t: Task): boolean => t.specHash === job.specHash
    const superseded = tasks.filter((t) => !isNew(t) && tasks.some((f) => isNew(f) && f.state === 'running' && f.instance === t.instance)).map((t) => ({task: t, reason: 'replaced'}))
    const instances = Array.from({length: n}, (_, i) => i)
    const roll = instances.filter((i) => !tasks.some((t) => isNew(t) && t.instance === i) && tasks.some((t) => t.instance === i && !superseded.some((s) => s.task === t))).map((i) => ({jobId: job.id, instance: i, restarts: 0, why: 'rollout', old: tasks.filter((t) => t.instance === i)}))
    const place = instances.filter((i) => !tasks.some((t) => t.instance === i)).map((i) => ({jobId: job.id, instance: i, restarts: 0, why: 'missing'}))
    const plan = planRollout({job, tasks, buckets: {place, roll, stop: superseded, ended: [], unreachable: []}, now})
    const stopped = new Set([...superseded, ...plan.stop].map((s) => s.task.id))
    const started = [...place, ...plan.place].map((p) => task(p.instance, job.specHash, 'pending'))
    tasks = tasks.filter((t) => !stopped.has(t.id))
    steps.push({start: started.length, stop: stopped.size, lowestAvailable: new Set(tasks.filter((t) => t.state === 'running').map((t) => t.instance)).size})
    tasks = [...tasks.map((t) => ({...t, state: 'running' as const})), ...started]
  }

  return steps.filter((s) => s.start > 0 || s.stop > 0)
}

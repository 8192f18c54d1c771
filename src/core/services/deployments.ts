/** Deployments: what `rollout status|history|pause|resume|undo` do (docs/deployments.md). */
import {sleep} from '../async.js'
import type {ServiceContext} from '../context.js'
import {FailedError, NotFoundError, UserError} from '../errors.js'
import {type Deployment, isOpen, type RolloutStatus, waitsForPromote} from '../model/deployment.js'
import {rolloutBounds} from '../model/job.js'
import {isLive, type Job, type Task} from '../model/task.js'
import {converge, type ConvergeOptions} from '../reconcile/controller.js'
import {isAvailable} from '../reconcile/health.js'
import type {PassReport} from '../reconcile/report.js'
import {findDeployment, lastStable, listDeployments, rollbackTarget, startDeployment, updateDeployment} from '../state/deployments.js'
import {appendEvent} from '../state/events.js'
import {listTasks, updateJob} from '../state/jobs.js'
import {getJob} from './jobs.js'

export type {RolloutStatus} from '../model/deployment.js'

export function rolloutStatus(ctx: Pick<ServiceContext, 'store' | 'clock'>, name: string): RolloutStatus {
  const {store} = ctx
  return store.read(() => {
    const job = getJob(ctx, name)
    const deployment = listDeployments(store, job.id)[0] ?? null
    return statusOf(job, deployment, listTasks(store, {jobId: job.id, live: true}), ctx.clock.now(), deployment && rollbackTarget(store, deployment))
  })
}

/** The status of a job's version from the job's live tasks (pure: `rollout status` and the dashboard's snapshot). */
export function statusOf(job: Job, deployment: Deployment | null, tasks: readonly Task[], now: number, backTo: number | null = null): RolloutStatus {
  const live = tasks.filter((t) => t.jobId === job.id && t.desired === 'run' && isLive(t.state))
  const updated = new Set(live.filter((t) => t.specHash === job.specHash && t.instance < job.instances && isAvailable(t, job.spec, now)).map((t) => t.instance)).size
  return {job: job.name, deployment, desired: job.instances, updated, old: live.filter((t) => t.specHash !== job.specHash).length, bounds: rolloutBounds(job.spec.upgrade, job.instances), backTo}
}

export function rolloutHistory(ctx: Pick<ServiceContext, 'store'>, name: string): Deployment[] {
  return ctx.store.read(() => listDeployments(ctx.store, getJob(ctx, name).id))
}

export interface FollowResult {
  /** The version followed, and how it ended. */
  version: number
  /** `waiting`: its canaries are available and it waits for `rollout promote`. */
  outcome: Exclude<Deployment['state'], 'running'> | 'none' | 'waiting'
  /** The last status seen (after a rollback: the rollback's). */
  status: RolloutStatus
  passes: number
}

/**
 * Follows the job's newest deployment until it ends (and, when it rolled back, until the
 * rollback ends too), running passes for this job when no daemon runs (a daemon's passes
 * are waited for instead: converge). `onUpdate` gets each status seen.
 */
export async function followRollout(ctx: ServiceContext, name: string, options: ConvergeOptions & {timeoutMs: number; onUpdate?: (status: RolloutStatus, pass: PassReport) => void}): Promise<FollowResult> {
  const {timeoutMs, onUpdate, ...converging} = options
  const first = rolloutStatus(ctx, name)
  const job = getJob(ctx, name)
  if (!first.deployment) return {version: 0, outcome: 'none', status: first, passes: 0}
  const version = first.deployment.version
  const deadline = ctx.clock.now() + timeoutMs
  let passes = 0
  let status = first
  for (;;) {
    const mine = ctx.store.read(() => findDeployment(ctx.store, job.id, version))!
    const newest = status.deployment!
    // a failed version that rolled back: the command waits for the rollback too, so the service is settled when it exits
    const rollingBack = mine.state === 'failed' && newest.cause === 'rollback' && newest.version > version && newest.state === 'running'
    if (mine.state !== 'running' && !rollingBack) return {version, outcome: mine.state as FollowResult['outcome'], status, passes}
    if (mine.state === 'running' && waitsForPromote({...status, deployment: mine}, job.spec.upgrade) && passes > 0) return {version, outcome: 'waiting', status, passes}
    if (ctx.clock.now() > deadline) throw new FailedError(`Version ${version} of ${name} is still rolling out after ${Math.round(timeoutMs / 1000)}s (${status.updated} of ${status.desired} instances updated).`, {hint: `Follow it longer with \`clusterctl rollout status ${name} --timeout 30m\`.`})
    if (passes > 0) await sleep(1_000)
    const pass = await converge(ctx, {...converging, jobs: [job.id]})
    passes++
    status = rolloutStatus(ctx, name)
    onUpdate?.(status, pass)
  }
}

/** Pauses (`pause: true`) or resumes the job's open deployment. A resume restarts its clocks and failure count. */
export function setRolloutPaused(ctx: Pick<ServiceContext, 'store' | 'clock'>, name: string, pause: boolean): {deployment: Deployment; changed: boolean} {
  const {store} = ctx
  return store.write(() => {
    const job = getJob(ctx, name)
    const dep = listDeployments(store, job.id)[0]
    if (!dep || !isOpen(dep.state)) throw new FailedError(`Job ${name} has no rollout in progress${dep ? ` (version ${dep.version} ${dep.state})` : ''}.`, {hint: `Run \`clusterctl rollout history ${name}\` to see its versions.`})
    if ((dep.state === 'paused') === pause) return {deployment: dep, changed: false}
    const now = ctx.clock.now()
    updateDeployment(store, dep.id, pause ? {state: 'paused', reason: 'paused by the operator'} : {state: 'running', reason: null, progressAt: now, countedFrom: now}, now)
    appendEvent(store, {type: pause ? 'deployment.paused' : 'deployment.resumed', subjectKind: 'job', subject: name, message: `version ${dep.version} ${pause ? 'paused' : 'resumed'} by the operator`, data: {version: dep.version}})
    return {deployment: findDeployment(store, job.id, dep.version)!, changed: true}
  })
}

/** Promotes the job's rollout out of its canary phase: the rest of the instances follow within the bounds. */
export function promoteRollout(ctx: Pick<ServiceContext, 'store' | 'clock'>, name: string): {deployment: Deployment; changed: boolean} {
  const {store} = ctx
  return store.write(() => {
    const job = getJob(ctx, name)
    const dep = listDeployments(store, job.id)[0]
    if (!dep || !isOpen(dep.state)) throw new FailedError(`Job ${name} has no rollout in progress${dep ? ` (version ${dep.version} ${dep.state})` : ''}.`, {hint: `Run \`clusterctl rollout history ${name}\` to see its versions.`})
    if (job.spec.upgrade.canary === 0) throw new UserError(`Version ${dep.version} of ${name} has no canaries to promote (upgrade.canary is 0).`)
    if (dep.promoted) return {deployment: dep, changed: false}
    const now = ctx.clock.now()
    updateDeployment(store, dep.id, {promoted: true, progressAt: now}, now)
    appendEvent(store, {type: 'deployment.promoted', subjectKind: 'job', subject: name, message: `version ${dep.version} promoted by the operator`, data: {version: dep.version}})
    return {deployment: findDeployment(store, job.id, dep.version)!, changed: true}
  })
}

/**
 * Goes back to an earlier version (`to`, else the last stable one that differs from the
 * current spec) as a new deployment (cause `undo`), then one pass for the job.
 */
export async function undoRollout(ctx: ServiceContext, name: string, options: ConvergeOptions & {to?: number} = {}): Promise<{deployment: Deployment; from: number; pass: PassReport}> {
  const {to, ...converging} = options
  const {store} = ctx
  const {job, deployment, from} = store.write(() => {
    const job = getJob(ctx, name)
    const current = listDeployments(store, job.id)[0]
    const target = to === undefined ? lastStable(store, job.id, job.specHash) : findDeployment(store, job.id, to)
    if (!target) {
      if (to !== undefined) throw new NotFoundError(`Job ${name} has no version ${to}.`, {hint: `Run \`clusterctl rollout history ${name}\` to see its versions.`})
      throw new FailedError(`Job ${name} has no earlier stable version to go back to.`, {hint: `Run \`clusterctl rollout history ${name}\`, then \`clusterctl rollout undo ${name} --to VERSION\`.`})
    }

    if (target.specHash === job.specHash) throw new UserError(`Version ${target.version} of ${name} runs the same containers as now: nothing to undo.`)
    const back: Job = {...job, spec: target.spec, specHash: target.specHash, generation: target.generation}
    const now = ctx.clock.now()
    updateJob(store, back, now)
    const deployment = startDeployment(store, back, 'undo', {id: ctx.newId(), now})
    appendEvent(store, {type: 'deployment.started', subjectKind: 'job', subject: name, message: `version ${deployment.version} (undo): back to version ${target.version}`, data: {version: deployment.version, cause: 'undo', to: target.version}})
    return {job: back, deployment, from: current?.version ?? 0}
  })
  const pass = await converge(ctx, {...converging, jobs: [job.id]})
  return {deployment, from, pass}
}

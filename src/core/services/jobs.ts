/** Jobs and tasks: what run/apply/scale/stop/rm/ps/inspect/logs/schedule do. */
import {FailedError, NotFoundError, UserError} from '../errors.js'
import {claimVolumes} from './volumes.js'
import {containerSpecHash, isRunDriven, type JobSpec, rolloutBounds} from '../model/job.js'
import {type RolloutStep, rolloutSteps} from '../reconcile/rollout.js'
import type {DeploymentCause} from '../model/deployment.js'
import {startDeployment} from '../state/deployments.js'
import {isLive, type Job, type JobCounts, jobStatus, type JobStatus, NO_TASKS, type Task} from '../model/task.js'
import {RuntimeClient, runtimeFor} from '../../runtime/index.js'
import {converge, type ConvergeOptions} from '../reconcile/controller.js'
import {restartOutlook} from '../reconcile/diff.js'
import type {PassReport} from '../reconcile/report.js'
import {appendEvent, listEvents, type ClusterEvent} from '../state/events.js'
import {usesProblem} from '../edge/injected.js'
import {deleteJob, findJob, findTask, insertJob, jobCounts, listJobs, listTasks, servicePortHolders, setServicePort, updateJob, updateTask, waitingInstances} from '../state/jobs.js'
import {chooseServicePort, frontedPort, SERVICE_PORT_RANGE} from '../edge/service-ports.js'
import {findNode} from '../state/nodes.js'
import {drainTimeoutOf} from '../edge/runner.js'
import {sleep} from '../async.js'
import {checkGraph, childrenOf, type GraphJob} from '../schedule/graph.js'
import {instancesProblem} from '../spec/validate.js'
import type {Store} from '../state/store.js'
import {connectSpecOf, type ServiceContext} from '../context.js'

export interface JobSummary {
  job: Job
  counts: JobCounts
  status: JobStatus
}

/** Every job with its task counts: two queries, linear in jobs and tasks. */
export function summarizeJobs(ctx: Pick<ServiceContext, 'store'>): JobSummary[] {
  const {store} = ctx
  return store.read(() => {
    const counts = jobCounts(store)
    return listJobs(store).map((job) => summaryOf(job, counts.get(job.id) ?? NO_TASKS))
  })
}

export function summarizeJob(ctx: Pick<ServiceContext, 'store'>, job: Job): JobSummary {
  return summaryOf(job, jobCounts(ctx.store, job.id).get(job.id) ?? NO_TASKS)
}

function summaryOf(job: Job, counts: JobCounts): JobSummary {
  const status = jobStatus(job, counts)
  return {job, counts: withUnplaced(job, counts, status), status}
}

/**
 * Instances an active job wants but that have no task yet (recorded with --no-start, or
 * scaled up, before a pass) are pending too: the controller's next pass creates and
 * places them. Not for run-driven jobs, whose runs make their tasks.
 */
function withUnplaced(job: Job, counts: JobCounts, status: JobStatus): JobCounts {
  if (status !== 'active' || isRunDriven(job.spec)) return counts
  const missing = job.instances - counts.live - (job.kind === 'batch' ? counts.finished : 0)
  return missing > 0 ? {...counts, pending: counts.pending + missing} : counts
}

export function getJob(ctx: Pick<ServiceContext, 'store'>, name: string): Job {
  const job = findJob(ctx.store, name)
  if (!job) throw new NotFoundError(`No job named ${name}.`, {hint: 'Run `clusterctl jobs` to list the jobs.'})
  return job
}

export interface RunResult {
  job: Job
  pass: PassReport | null
  tasks: Task[]
}

/** Records a new job and (unless noStart) places and starts it in one pass. */
export async function runJob(ctx: ServiceContext, spec: JobSpec, options: {noStart?: boolean} & ConvergeOptions = {}): Promise<RunResult> {
  const {store} = ctx
  const now = ctx.clock.now()
  const job: Job = {id: ctx.newId(), name: spec.name, kind: spec.kind, spec, specHash: containerSpecHash(spec), instances: spec.instances, generation: 0, state: 'active', servicePort: null, createdAt: now, updatedAt: now}
  store.write(() => {
    if (findJob(store, spec.name)) throw new FailedError(`Job ${spec.name} already exists.`, {code: 'exists', hint: `Change it with \`clusterctl apply -f FILE\`, or remove it with \`clusterctl rm ${spec.name}\` first.`})
    checkDependencies(store, [spec])
    checkUses(store, [spec])
    job.servicePort = servicePortFor(spec, null, servicePortHolders(store))
    claimVolumes(store, job, {now, newId: ctx.newId})
    insertJob(store, job)
    appendEvent(store, {type: 'job.created', subjectKind: 'job', subject: job.name, message: `created: ${describeSpec(spec)}`, data: {specHash: job.specHash}})
    deploy(ctx, job, 'create', now)
  })
  const pass = options.noStart ? null : await converge(ctx, options)
  return {job, pass, tasks: listTasks(store, {jobId: job.id, live: true})}
}

export interface ApplyResult {
  /** `rollout`: the steps of the rolling update a new version takes (rolloutSteps). */
  jobs: Array<{name: string; change: 'created' | 'updated' | 'unchanged'; what: string[]; rollout?: RolloutStep[]; servicePort: number | null}>
  pass: PassReport | null
}

/** Creates or updates jobs from specs; unchanged specs change nothing. Then one pass. */
/**
 * Creates or updates jobs from specs; unchanged specs change nothing. Then one pass.
 * With `dryRun` nothing is recorded and no pass runs: the result says what would change,
 * and for a new version the rollout's steps (rolloutSteps, the pass's own planner).
 */
export async function applySpecs(ctx: ServiceContext, specs: JobSpec[], options: {noStart?: boolean; cause?: 'apply' | 'import'} & ConvergeOptions = {}): Promise<ApplyResult> {
  const {store} = ctx
  const now = ctx.clock.now()
  const dry = options.dryRun === true
  const result: ApplyResult = {jobs: [], pass: null}
  const inTransaction = (fn: () => void): void => (dry ? store.read(fn) : store.write(fn))
  inTransaction(() => {
    checkDependencies(store, specs)
    checkUses(store, specs)
    checkUsedKeepAddress(store, specs)
    const holders = servicePortHolders(store)
    for (const spec of specs) {
      const existing = findJob(store, spec.name)
      const specHash = containerSpecHash(spec, existing?.generation ?? 0)
      const servicePort = servicePortFor(spec, existing?.servicePort ?? null, holders)
      if (!existing) {
        const job: Job = {id: ctx.newId(), name: spec.name, kind: spec.kind, spec, specHash, instances: spec.instances, generation: 0, state: 'active', servicePort, createdAt: now, updatedAt: now}
        claimVolumes(store, job, {now, newId: ctx.newId, dryRun: dry})
        if (!dry) {
          insertJob(store, job)
          appendEvent(store, {type: 'job.created', subjectKind: 'job', subject: spec.name, message: `created: ${describeSpec(spec)}`, data: {specHash}})
          deploy(ctx, job, options.cause === 'import' ? 'import' : 'create', now)
        }

        result.jobs.push({name: spec.name, change: 'created', what: [], servicePort})
        continue
      }

      const what = changesBetween(existing, spec, specHash)
      if ((existing.servicePort ?? null) !== servicePort) what.push(`service port ${existing.servicePort ?? 'none'} -> ${servicePort ?? 'none'}`)
      if (what.length === 0) {
        result.jobs.push({name: spec.name, change: 'unchanged', what, servicePort})
        continue
      }

      const job = {...existing, kind: spec.kind, spec, specHash, instances: spec.instances, state: 'active' as const, servicePort}
      claimVolumes(store, job, {now, newId: ctx.newId, dryRun: dry})
      const rolls = specHash !== existing.specHash && existing.state === 'active' && !isRunDriven(spec)
      if (!dry) {
        updateJob(store, job, now)
        if ((existing.servicePort ?? null) !== servicePort) setServicePort(store, job.id, servicePort)
        appendEvent(store, {type: 'job.updated', subjectKind: 'job', subject: spec.name, message: `updated: ${what.join(', ')}`, data: {specHash, what}})
        if (specHash !== existing.specHash) deploy(ctx, job, options.cause ?? 'apply', now)
      }

      result.jobs.push({name: spec.name, change: 'updated', what, servicePort, ...(rolls ? {rollout: rolloutSteps(job)} : {})})
    }
  })
  if (!options.noStart && !dry) result.pass = await converge(ctx, options)
  return result
}

/**
 * The service port a job with this spec gets (core/edge/service-ports.ts), among the
 * ports other jobs hold (`holders`, by job name; updated with the choice, so the specs
 * of one apply see each other's). A port another job holds is refused (exit 2).
 */
function servicePortFor(spec: JobSpec, current: number | null, holders: Map<number, string>): number | null {
  const others = new Map([...holders].filter(([, name]) => name !== spec.name))
  const choice = chooseServicePort(spec, current, others)
  if (!choice.ok && choice.reason === 'taken') {
    throw new UserError(`Job ${spec.name}: service port ${choice.port} is held by job ${choice.holder}.`, {code: 'invalid-spec', hint: `Pick another servicePort, or leave it out to have one assigned from ${SERVICE_PORT_RANGE.from}-${SERVICE_PORT_RANGE.to} (\`clusterctl jobs\` shows the ports in use).`})
  }

  if (!choice.ok) {
    throw new FailedError(`Job ${spec.name} needs a service port, and all of ${SERVICE_PORT_RANGE.from}-${SERVICE_PORT_RANGE.to} are taken.`, {code: 'no-service-port', hint: 'Give it a servicePort outside that range (and outside 31000-32000), or remove services no longer used.'})
  }

  for (const [port, name] of holders) if (name === spec.name) holders.delete(port)
  if (choice.port !== null) holders.set(choice.port, spec.name)
  return choice.port
}

function changesBetween(job: Job, spec: JobSpec, specHash: string): string[] {
  const what: string[] = []
  if (job.specHash !== specHash) what.push('containers (image, command, env, resources, ports, volumes, labels or health check)')
  if (job.instances !== spec.instances) what.push(`instances ${job.instances} -> ${spec.instances}`)
  if (job.state !== 'active') what.push('started again')
  const placement = (s: JobSpec) => JSON.stringify([s.constraints, s.preferences, s.strategy, s.runtime, s.restart, s.upgrade, s.kind, s.team ?? null, s.priority ?? null, s.preemption ?? null, s.readinessCheck ?? null, s.dependsOn ?? null, s.drainTimeoutMs ?? null])
  if (placement(job.spec) !== placement(spec)) what.push('placement, upgrade, readiness or policy')
  if (JSON.stringify(job.spec.runPolicy ?? null) !== JSON.stringify(spec.runPolicy ?? null)) what.push('schedule, parents or run policy')
  return what
}

/** Jobs by names and/or a `label=value` selector (on the spec's labels). */
export interface JobRefs {
  names: readonly string[]
  selector?: string
}

/**
 * The jobs named, then those whose labels match the selector, each once, in that order.
 * Every name must exist and a selector must match something: else nothing is done.
 */
export function selectJobs(ctx: Pick<ServiceContext, 'store'>, refs: JobRefs): Job[] {
  const {store} = ctx
  if (refs.names.length === 0 && refs.selector === undefined) throw new UserError('Name at least one job, or select jobs with --selector LABEL=VALUE.')
  const selector = refs.selector === undefined ? null : parseSelector(refs.selector)
  const missing = refs.names.filter((n) => !findJob(store, n))
  if (missing.length > 0) throw new NotFoundError(`No job named ${missing.join(', ')}; nothing was changed.`, {hint: 'Run `clusterctl jobs` to list the jobs.'})
  const out = new Map<string, Job>()
  for (const n of refs.names) out.set(n, findJob(store, n)!)
  if (selector) {
    const matched = listJobs(store).filter((j) => j.spec.labels[selector.key] === selector.value)
    if (matched.length === 0) throw new NotFoundError(`No job has the label ${selector.key}=${selector.value}; nothing was changed.`, {hint: 'Run `clusterctl jobs --json` to see the jobs and their labels (spec.labels).'})
    for (const j of matched) if (!out.has(j.name)) out.set(j.name, j)
  }

  return [...out.values()]
}

function parseSelector(text: string): {key: string; value: string} {
  const m = /^([^=\s]+)=(.*)$/.exec(text)
  if (!m) throw new UserError(`--selector expects LABEL=VALUE, got ${JSON.stringify(text)}.`)
  return {key: m[1]!, value: m[2]!}
}

export async function scaleJob(ctx: ServiceContext, name: string, instances: number, options: ConvergeOptions = {}): Promise<{job: Job; pass: PassReport}> {
  const {jobs, pass} = await scaleJobs(ctx, {names: [name]}, instances, options)
  return {job: jobs[0]!, pass}
}

/** Sets the instances of every job selected, then one pass over those jobs alone. */
export async function scaleJobs(ctx: ServiceContext, refs: JobRefs, instances: number, options: ConvergeOptions = {}): Promise<{jobs: Job[]; pass: PassReport}> {
  const problem = instancesProblem(instances)
  if (problem) throw new UserError(`The instance count ${problem}.`)
  const {store} = ctx
  const jobs = store.write(() =>
    selectJobs(ctx, refs).map((j) => {
      if (j.instances !== instances || j.state !== 'active') {
        claimVolumes(store, {...j, instances}, {now: ctx.clock.now(), newId: ctx.newId})
        updateJob(store, {...j, instances, state: 'active'}, ctx.clock.now())
        appendEvent(store, {type: 'job.scaled', subjectKind: 'job', subject: j.name, message: `scaled ${j.instances} -> ${instances}`, data: {from: j.instances, to: instances}})
      }

      return {...j, instances, state: 'active' as const}
    }),
  )
  return {jobs, pass: await converge(ctx, {...options, jobs: jobs.map((j) => j.id)})}
}

/**
 * Replaces every instance with a fresh container, make-before-break (the new one
 * starts before the old one stops), in one pass.
 */
export async function restartJob(ctx: ServiceContext, name: string, options: ConvergeOptions = {}): Promise<{job: Job; pass: PassReport}> {
  const {store} = ctx
  const job = store.write(() => {
    const j = getJob(ctx, name)
    if (j.state !== 'active') throw new FailedError(`Job ${name} is stopped: there is nothing to restart.`, {hint: `Run \`clusterctl scale ${name} N\` to start it.`})
    const generation = j.generation + 1
    const next = {...j, generation, specHash: containerSpecHash(j.spec, generation)}
    updateJob(store, next, ctx.clock.now())
    appendEvent(store, {type: 'job.restarted', subjectKind: 'job', subject: name, message: `restart ${generation}: every instance is replaced`, data: {generation}})
    deploy(ctx, next, 'restart', ctx.clock.now())
    return next
  })
  return {job, pass: await converge(ctx, {...options, jobs: [job.id]})}
}

export async function stopJob(ctx: ServiceContext, name: string, options: ConvergeOptions = {}): Promise<{job: Job; pass: PassReport}> {
  const {jobs, pass} = await stopJobs(ctx, {names: [name]}, options)
  return {job: jobs[0]!, pass}
}

/** Stops every job selected, then one pass over those jobs alone (observing only the nodes that run them). */
export async function stopJobs(ctx: ServiceContext, refs: JobRefs, options: ConvergeOptions = {}): Promise<{jobs: Job[]; pass: PassReport}> {
  const {store} = ctx
  const jobs = store.write(() =>
    selectJobs(ctx, refs).map((j) => {
      if (j.state !== 'stopped') {
        updateJob(store, {...j, state: 'stopped'}, ctx.clock.now())
        appendEvent(store, {type: 'job.stopped', subjectKind: 'job', subject: j.name, message: 'stopped', data: {}})
      }

      return {...j, state: 'stopped' as const}
    }),
  )
  return {jobs, pass: await converge(ctx, {...options, jobs: jobs.map((j) => j.id)})}
}

/** The dependency view of a job: its parents and schedule. */
export function graphJobOf(job: Pick<Job, 'name' | 'spec'>): GraphJob {
  return {name: job.name, after: job.spec.runPolicy?.after ?? [], schedule: job.spec.runPolicy?.schedule ?? null, ...(job.spec.dependsOn ? {dependsOn: job.spec.dependsOn} : {})}
}

/** Unknown parents and cycles among the stored jobs with these specs applied are refused, naming the path. */
function checkDependencies(store: Store, specs: readonly JobSpec[]): void {
  if (!specs.some((s) => s.runPolicy?.after.length || s.dependsOn?.length)) return
  const incoming = new Map(specs.map((s) => [s.name, graphJobOf({name: s.name, spec: s})]))
  checkGraph([...listJobs(store).filter((j) => !incoming.has(j.name)).map(graphJobOf), ...incoming.values()])
}

/** A used service that does not exist, or has no stable address, is refused at submit (docs/endpoints.md). */
function checkUses(store: Store, specs: readonly JobSpec[]): void {
  if (!specs.some((s) => s.uses?.length)) return
  const stored = new Map(listJobs(store).map((j) => [j.name, j]))
  const incoming = new Map(specs.map((s) => [s.name, s]))
  for (const spec of specs) {
    const problem = usesProblem(spec, stored, incoming)
    if (problem) throw new UserError(`${problem}.`, {code: 'invalid-spec', hint: 'Run `clusterctl endpoints` to list the services and their addresses; submit the service first (or in the same file).'})
  }
}

/** A service that others use may not lose its address (become batch, or drop its TCP ports) while they do. */
function checkUsedKeepAddress(store: Store, specs: readonly JobSpec[]): void {
  const losing = new Set(specs.filter((s) => frontedPort(s) === null).map((s) => s.name))
  if (losing.size === 0) return
  const incoming = new Map(specs.map((s) => [s.name, s]))
  const jobs = [...listJobs(store).filter((j) => !incoming.has(j.name)), ...specs.map((spec) => ({name: spec.name, spec}))]
  const users = jobs.filter((j) => j.spec.uses?.some((u) => losing.has(u)))
  if (users.length > 0) {
    const used = [...new Set(users.flatMap((j) => j.spec.uses!.filter((u) => losing.has(u))))]
    throw new UserError(`${used.join(', ')} would lose ${used.length === 1 ? 'its' : 'their'} service address (no TCP port, or not a service), and ${users.map((j) => j.name).join(', ')} use${users.length === 1 ? 's' : ''} it.`, {code: 'invalid-spec', hint: 'Keep a TCP port on it, or remove it from their `uses` first.'})
  }
}

/** The jobs outside `names` that use one of them (their containers would lose an address), and which of them they use. */
function usersOf(jobs: readonly Job[], names: ReadonlySet<string>): {users: string[]; used: string[]} {
  const users = jobs.filter((j) => !names.has(j.name) && j.spec.uses?.some((u) => names.has(u)))
  return {users: users.map((j) => j.name), used: [...new Set(users.flatMap((j) => j.spec.uses!.filter((u) => names.has(u))))]}
}

/**
 * Stops every task of the job, then forgets it (its events stay). A job that others
 * run after is refused unless `force`; then it is dropped from their parents.
 */
export async function removeJob(ctx: ServiceContext, name: string, options: ConvergeOptions & {force?: boolean} = {}): Promise<{job: Job; pass: PassReport; orphanedChildren: string[]}> {
  const {removed, pass, orphanedChildren} = await removeJobs(ctx, {names: [name]}, options)
  return {job: removed[0]!, pass, orphanedChildren}
}

/**
 * Stops every job selected (one pass over them alone), then forgets each whose
 * containers all stopped (their events stay). A job that others run after is refused
 * unless `force`. Jobs whose containers could not all be stopped are kept: an error
 * names them after the others are removed.
 */
/** Tasks of these jobs draining on the edges (docs/endpoints.md): waited for until they end, within the drain timeout and a margin. */
async function untilDrained(ctx: ServiceContext, jobs: readonly Job[]): Promise<void> {
  const draining = (): boolean => ctx.store.read(() => jobs.some((job) => listTasks(ctx.store, {jobId: job.id, live: true}).some((t) => t.desired === 'stop' && t.state === 'running' && typeof t.reasonData?.drainSince === 'number')))
  const deadline = ctx.clock.now() + Math.max(0, ...jobs.map((j) => drainTimeoutOf(j.spec))) + 10_000
  while (draining() && ctx.clock.now() < deadline) await sleep(500)
}

export async function removeJobs(ctx: ServiceContext, refs: JobRefs, options: ConvergeOptions & {force?: boolean} = {}): Promise<{removed: Job[]; pass: PassReport; orphanedChildren: string[]}> {
  const {store} = ctx
  const {selected, children, users, used} = store.read(() => {
    const selected = selectJobs(ctx, refs)
    const names = new Set(selected.map((j) => j.name))
    const all = listJobs(store)
    const graph = all.map(graphJobOf)
    return {selected, children: [...new Set(selected.flatMap((j) => childrenOf(graph, j.name)))].filter((c) => !names.has(c)), ...usersOf(all, names)}
  })
  if (users.length > 0 && !options.force) {
    const several = used.length > 1
    throw new UserError(`${used.join(', ')} ${several ? 'are' : 'is'} used by ${users.join(', ')}: removing ${several ? 'them' : 'it'} leaves ${users.length === 1 ? 'that job' : 'those jobs'} without ${several ? 'their addresses' : 'its address'}.`, {hint: `Remove ${several ? 'them' : 'it'} from their \`uses\` first, or run \`clusterctl rm ${selected.map((j) => j.name).join(' ')} --force\` (their containers started later get no address for ${several ? 'them' : 'it'}).`})
  }
  if (children.length > 0 && !options.force) {
    const parents = selected.map((j) => j.name).join(', ')
    throw new UserError(`Job${selected.length === 1 ? '' : 's'} ${parents} ha${selected.length === 1 ? 's' : 've'} jobs that run after ${selected.length === 1 ? 'it' : 'them'}: ${children.join(', ')}.`, {hint: `Remove them first, or run \`clusterctl rm ${parents.replaceAll(',', '')} --force\` (they then no longer wait for ${selected.length === 1 ? parents : 'them'}).`})
  }

  const {jobs, pass} = await stopJobs(ctx, {names: selected.map((j) => j.name)}, options)
  // A daemon's pass leaves a task whose backend still drains on the edges running (the next pass stops it): wait for those.
  if (pass.convergedBy) await untilDrained(ctx, jobs)
  const gone = new Set(jobs.map((j) => j.name))
  const kept: string[] = []
  const problems: string[] = []
  const removed = store.write(() => {
    for (const child of children) {
      const c = findJob(store, child)
      if (!c?.spec.runPolicy) continue
      const parents = c.spec.runPolicy.after.filter((p) => gone.has(p))
      const spec = {...c.spec, runPolicy: {...c.spec.runPolicy, after: c.spec.runPolicy.after.filter((p) => !gone.has(p))}}
      updateJob(store, {...c, spec}, ctx.clock.now())
      appendEvent(store, {type: 'job.updated', subjectKind: 'job', subject: child, message: `no longer runs after ${parents.join(', ')} (removed with --force)`, data: {removedParent: parents.length === 1 ? parents[0] : parents}})
    }

    return jobs.filter((job) => {
      const left = listTasks(store, {jobId: job.id, live: true}).filter((t) => t.state !== 'pending')
      if (left.length > 0) {
        kept.push(job.name)
        problems.push(`Job ${job.name} is stopped, but ${left.length} of its containers could not be stopped (${left.map((t) => `${t.containerName} on ${t.nodeName}`).join(', ')}); it was kept`)
        return false
      }

      deleteJob(store, job.id)
      appendEvent(store, {type: 'job.removed', subjectKind: 'job', subject: job.name, message: 'removed', data: {}})
      return true
    })
  })
  if (kept.length > 0) {
    throw new FailedError(`${problems.join('; ')}${removed.length ? ` (removed: ${removed.map((j) => j.name).join(', ')})` : ''}.`, {hint: `Run \`clusterctl rm ${kept.join(' ')}\` again when the nodes answer.`})
  }

  return {removed, pass, orphanedChildren: children}
}

/** A task as listed: an instance waiting to restart (or given up on) carries when and why. */
export type ListedTask = Task & {waiting?: {until: number | null; why: string}}

/**
 * Live tasks (with `all`, every task), plus, for each instance of an active job with no
 * live task, its last ended task and what becomes of it (restart back-off, given up):
 * a job in back-off is never shown as having no tasks.
 */
export function listJobTasks(ctx: Pick<ServiceContext, 'store' | 'clock'>, options: {job?: string; all?: boolean} = {}): ListedTask[] {
  const {store} = ctx
  return store.read(() => {
    const jobId = options.job ? getJob(ctx, options.job).id : undefined
    const tasks: ListedTask[] = listTasks(store, {...(jobId ? {jobId} : {}), live: !options.all})
    if (options.all) return tasks
    const waiting = waitingTasks(ctx, jobId)
    if (waiting.length === 0) return tasks
    return [...tasks, ...waiting].sort((a, b) => (a.jobName < b.jobName ? -1 : a.jobName > b.jobName ? 1 : a.instance - b.instance || a.createdAt - b.createdAt))
  })
}

function waitingTasks(ctx: Pick<ServiceContext, 'store' | 'clock'>, jobId: string | undefined): ListedTask[] {
  const jobs = new Map<string, Job | undefined>()
  const out: ListedTask[] = []
  for (const task of waitingInstances(ctx.store, jobId)) {
    if (!jobs.has(task.jobId)) jobs.set(task.jobId, findJob(ctx.store, task.jobName))
    const job = jobs.get(task.jobId)
    if (!job) continue
    const outlook = restartOutlook(job, task, ctx.clock.now())
    if (outlook.kind === 'back-off') out.push({...task, waiting: {until: outlook.until, why: outlook.why}})
    else if (outlook.kind === 'gave-up') out.push({...task, waiting: {until: null, why: outlook.why}})
    else if (outlook.kind === 'restart') out.push({...task, waiting: {until: ctx.clock.now(), why: `restarts at the next pass, after ${task.reason ?? task.state}`}})
  }

  return out
}

export function resolveTask(ctx: Pick<ServiceContext, 'store'>, ref: string): Task {
  if (ref.length < 4) throw new UserError(`A task reference needs at least 4 characters of its id (or its container name), got ${JSON.stringify(ref)}.`)
  const matches = findTask(ctx.store, ref)
  if (matches.length === 0) throw new NotFoundError(`No task ${ref}.`, {hint: 'Run `clusterctl ps` to list the tasks.'})
  const live = matches.filter((t) => isLive(t.state))
  if (matches.length > 1 && live.length !== 1) {
    throw new UserError(`Task prefix ${ref} matches ${matches.length} tasks: ${matches.slice(0, 5).map((t) => `${t.id.slice(0, 12)} (${t.jobName}.${t.instance}, ${t.state})`).join(', ')}; give more characters.`)
  }

  return live[0] ?? matches[0]!
}

export interface InspectResult {
  /** The job (of the task, for a task), counted over all its tasks. */
  job: JobSummary | null
  task: ListedTask | null
  tasks: ListedTask[]
  events: ClusterEvent[]
}

/** A job by name, else a task by id prefix or container name. */
export function inspect(ctx: Pick<ServiceContext, 'store' | 'clock'>, ref: string): InspectResult {
  const {store} = ctx
  return store.read(() => {
    const job = findJob(store, ref)
    if (job) return {job: summarizeJob(ctx, job), task: null, tasks: listJobTasks(ctx, {job: job.name}), events: listEvents(store, {job: job.name, limit: 20})}
    let task: Task
    try {
      task = resolveTask(ctx, ref)
    } catch (error) {
      if (error instanceof NotFoundError || ref.length < 4) {
        throw new NotFoundError(`No job named ${ref}${ref.length < 4 ? '' : ', and no task whose id starts with it or whose container has that name'}.`, {hint: 'Run `clusterctl jobs` to list the jobs, or `clusterctl ps` for the tasks.'})
      }

      throw error
    }

    const owner = findJob(store, task.jobName)
    const listed = isLive(task.state) ? task : listJobTasks(ctx, {job: task.jobName}).find((t) => t.id === task.id) ?? task
    return {job: owner ? summarizeJob(ctx, owner) : null, task: listed, tasks: [listed], events: listEvents(store, {subjectKind: 'task', subject: task.id, limit: 20})}
  })
}

/**
 * Stops one task: it is marked to stop, and the next pass stops its container. A
 * service's instance then gets a new task (the job still wants it); to have fewer
 * instances, scale the job. Idempotent; a task that already ended is refused.
 */
export function stopTask(ctx: Pick<ServiceContext, 'store'>, ref: string): {task: Task; changed: boolean} {
  const {store} = ctx
  return store.write(() => {
    const task = resolveTask(ctx, ref)
    if (!isLive(task.state)) throw new FailedError(`Task ${task.id.slice(0, 12)} (${task.jobName}.${task.instance}) has already ended (${task.state}).`, {hint: `Run \`clusterctl ps ${task.jobName}\` to see its live tasks.`})
    if (task.desired === 'stop') return {task, changed: false}
    const now = store.clock.now()
    updateTask(store, task.id, {desired: 'stop', reason: 'stopped by user'}, now)
    appendEvent(store, {type: 'task.stop-requested', subjectKind: 'task', subject: task.id, message: `${task.jobName}.${task.instance}: stop requested by user${task.nodeName ? ` (on ${task.nodeName})` : ''}`, data: {job: task.jobName, instance: task.instance, node: task.nodeName}})
    return {task: {...task, desired: 'stop' as const, reason: 'stopped by user'}, changed: true}
  })
}

/** Streams a task's logs from its node. */
export async function taskLogs(
  ctx: ServiceContext,
  ref: string,
  options: {follow: boolean; tail?: number; signal?: AbortSignal; onStdout: (chunk: Buffer) => void; onStderr: (chunk: Buffer) => void},
): Promise<{task: Task; code: number | null}> {
  const task = resolveTask(ctx, ref)
  if (!task.nodeName || !task.containerName) throw new FailedError(`Task ${task.id.slice(0, 12)} (${task.jobName}.${task.instance}) has not been placed on a node: it has no logs${task.reason ? ` (${task.reason})` : ''}.`)
  const node = findNode(ctx.store, task.nodeName)
  if (!node) throw new NotFoundError(`The node of task ${task.id.slice(0, 12)} is gone.`)
  const client = new RuntimeClient(runtimeFor(node.runtime), ctx.connect(connectSpecOf(node)))
  const r = await client.logs(task.containerName, {
    follow: options.follow,
    ...(options.tail === undefined ? {} : {tail: options.tail}),
    onStdout: options.onStdout,
    onStderr: options.onStderr,
    ...(options.signal ? {signal: options.signal} : {}),
  })
  return {task, code: r.code}
}


/** A new version of the job's containers (inside the caller's transaction), with its event: the reconcile pass rolls it out. */
function deploy(ctx: Pick<ServiceContext, 'store' | 'newId'>, job: Job, cause: DeploymentCause, now: number): void {
  const d = startDeployment(ctx.store, job, cause, {id: ctx.newId(), now})
  if (cause === 'create') return
  const {maxUnavailable, maxSurge} = rolloutBounds(job.spec.upgrade, job.instances)
  appendEvent(ctx.store, {type: 'deployment.started', subjectKind: 'job', subject: job.name, message: `version ${d.version} (${cause}): rolling out ${job.instances} instance${job.instances === 1 ? '' : 's'}, at most ${maxUnavailable} unavailable and ${maxSurge} extra`, data: {version: d.version, cause}})
}

function describeSpec(spec: JobSpec): string {
  return `${spec.kind} ${spec.image}, ${spec.instances} x (cpus ${spec.resources.cpuMilli / 1000}, mem ${Math.round(spec.resources.memBytes / 1024 ** 2)}Mi)`
}

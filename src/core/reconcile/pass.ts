/**
 * One pass of the reconciler: observe -> diff -> schedule -> record -> apply -> record.
 *
 * Every action is idempotent: task rows (with their deterministic container
 * names) are written before containers are started, starts adopt what exists,
 * stops of what is gone succeed. A controller killed anywhere in a pass leaves
 * a state that the next pass completes.
 */
import {clusterSelector, containerName, LABELS, RuntimeClient, runtimeFor, taskLabels} from '../../runtime/index.js'
import type {ContainerSpec} from '../../runtime/types.js'
import {allocatableOf, type Node} from '../model/node.js'
import {addResources, type Resources, ZERO_RESOURCES} from '../model/resources.js'
import {type HostPortBinding, isLive, type Job, type Task} from '../model/task.js'
import {schedule} from '../scheduler/schedule.js'
import type {Constraint, Plan, PortRange, SchedNode, Snapshot, TaskRequest} from '../scheduler/types.js'
import {appendEvent} from '../state/events.js'
import {clusterId as readClusterId, insertTask, listJobs, listTasksForReconcile, updateTask} from '../state/jobs.js'
import {listNodes} from '../state/nodes.js'
import type {Store} from '../state/store.js'
import {connectSpecOf, type ServiceContext} from '../services/context.js'
import {diff, type NodeObservation} from './diff.js'

export interface PassOptions {
  dryRun?: boolean
  /** Seed for the scheduler's tie-breaks (default: derived from the time). */
  seed?: number
  portRange?: PortRange
  /** Concurrent nodes observed / acted on. */
  concurrency?: number
  /** Grace before SIGKILL when stopping. */
  stopGraceSeconds?: number
}

export interface PassAction {
  kind: 'place' | 'start' | 'adopt' | 'stop' | 'end' | 'remove-orphan'
  job: string
  instance: number | null
  taskId: string | null
  node: string | null
  detail: string
  ok: boolean
}

export interface PassReport {
  dryRun: boolean
  actions: PassAction[]
  /** Tasks left pending, with the reason a human can act on. */
  pending: Array<{job: string; instance: number; taskId: string; reason: string; counts: Record<string, number>}>
  /** Nodes that could not be observed this pass. */
  unobserved: Array<{node: string; error: string}>
  /** True when the pass changed nothing. */
  unchanged: boolean
  /** Set when a running daemon did the work (the command recorded the change and waited for its pass). */
  convergedBy?: {pid: number; hostname: string}
}


export async function runPass(ctx: ServiceContext, options: PassOptions = {}): Promise<PassReport> {
  const {store} = ctx
  const now = ctx.clock.now()
  const report: PassReport = {dryRun: options.dryRun === true, actions: [], pending: [], unobserved: [], unchanged: true}
  const {nodes, jobs, tasks, cluster} = store.read(() => ({nodes: listNodes(store), jobs: listJobs(store), tasks: listTasksForReconcile(store), cluster: readClusterId(store)}))
  const nodesById = new Map(nodes.map((n) => [n.id, n]))
  const jobsById = new Map(jobs.map((j) => [j.id, j]))
  const clients = new Map<string, RuntimeClient>()
  const clientOf = (node: Node): RuntimeClient => {
    let client = clients.get(node.id)
    if (!client) {
      client = new RuntimeClient(runtimeFor(node.runtime), ctx.connect(connectSpecOf(node)))
      clients.set(node.id, client)
    }

    return client
  }

  // 1. Observe every node that has (or may have) our containers: one round trip each, in parallel.
  const observed = new Map<string, NodeObservation>()
  await forEachLimited(nodes, options.concurrency ?? 16, async (node) => {
    try {
      // list() refuses an incomplete listing: a node is either fully observed or not at all.
      observed.set(node.id, {ok: true, complete: true, containers: await clientOf(node).list(clusterSelector(cluster))})
    } catch (error) {
      observed.set(node.id, {ok: false, complete: false, containers: [], error: (error as Error).message})
      report.unobserved.push({node: node.name, error: (error as Error).message})
    }
  })

  // 2. Diff.
  const buckets = diff({jobs, tasks, observed, now})
  const jobName = (jobId: string): string => jobsById.get(jobId)?.name ?? jobId

  // 3. Record what observation taught us, and the new tasks; then schedule every pending task.
  const created: Task[] = []
  const whyCreated = new Map<string, string>()
  const record = (fn: () => void): void => {
    if (!options.dryRun) store.write(fn)
  }

  record(() => {
    for (const {task} of buckets.adopt) {
      updateTask(store, task.id, {state: 'running', startedAt: task.startedAt ?? now, reason: null}, now)
      taskEvent(store, task, 'task.running', `adopted running container ${task.containerName} on ${task.nodeName}`)
    }

    for (const e of buckets.ended) {
      updateTask(store, e.task.id, {state: e.state, exitCode: e.exitCode, finishedAt: now, reason: e.reason}, now)
      taskEvent(store, e.task, `task.${e.state}`, `${e.reason} on ${e.task.nodeName}`)
    }
  })
  for (const e of buckets.adopt) report.actions.push(action('adopt', jobName(e.task.jobId), e.task, e.task.nodeName, `container ${e.container.name} is running`))
  for (const e of buckets.ended) report.actions.push(action('end', jobName(e.task.jobId), e.task, e.task.nodeName, `${e.state}: ${e.reason}`))

  for (const p of buckets.place) {
    const job = jobsById.get(p.jobId)!
    const id = ctx.newId()
    whyCreated.set(id, p.why)
    created.push({
      id,
      jobId: job.id,
      jobName: job.name,
      instance: p.instance,
      nodeId: null,
      nodeName: null,
      state: 'pending',
      desired: 'run',
      health: 'unknown',
      containerName: containerName({clusterId: cluster, jobName: job.name, instance: p.instance, taskId: id}),
      hostPorts: [],
      specHash: job.specHash,
      reason: null,
      reasonData: null,
      restarts: p.restarts,
      exitCode: null,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
    })
  }

  record(() => {
    for (const t of created) {
      insertTask(store, t)
      taskEvent(store, t, 'task.pending', `created (${whyCreated.get(t.id) ?? 'missing'})`)
    }
  })

  const stopping = new Set(buckets.stop.map((s) => s.task.id))
  const ended = new Set(buckets.ended.map((e) => e.task.id))
  const stillLive = tasks.filter((t) => isLive(t.state) && !ended.has(t.id) && !stopping.has(t.id))
  const pendingTasks = [...stillLive.filter((t) => t.state === 'pending'), ...created]
  const pendingById = new Map(pendingTasks.map((t) => [t.id, t]))
  // A node that could not be observed this pass takes no new work in it.
  const schedulable = nodes.map((n) => (observed.get(n.id)?.ok === false && n.state === 'ready' ? {...n, state: 'unreachable' as const} : n))
  const plan = pendingTasks.length === 0 ? {placements: [], pending: []} : schedule(snapshotOf(schedulable, stillLive.filter((t) => t.state !== 'pending'), jobsById), pendingTasks.map((t) => requestOf(t, jobsById.get(t.jobId)!)), {seed: options.seed ?? now % 2_147_483_647, ...(options.portRange ? {portRange: options.portRange} : {})})

  // 4. Record placements (before any container starts) and pending reasons.
  const placed = placementsOf(plan, pendingById, jobsById)
  record(() => {
    for (const p of placed) {
      updateTask(store, p.task.id, {state: 'staging', nodeId: p.node, hostPorts: p.hostPorts, reason: null, reasonData: null}, now)
      taskEvent(store, p.task, 'task.staging', `placed on ${nodesById.get(p.node)?.name ?? p.node}${p.hostPorts.length ? ` (ports ${p.hostPorts.map((h) => `${h.hostPort}->${h.containerPort}`).join(', ')})` : ''}`)
    }

    for (const p of plan.pending) {
      const task = pendingById.get(p.taskId)!
      if (task.reason !== p.reason) {
        updateTask(store, task.id, {reason: p.reason, reasonData: {counts: p.counts, details: p.details}}, now)
        taskEvent(store, task, 'task.unschedulable', p.reason)
      }
    }
  })
  for (const p of plan.pending) {
    const task = pendingById.get(p.taskId)!
    report.pending.push({job: task.jobName, instance: task.instance, taskId: task.id, reason: p.reason, counts: p.counts as Record<string, number>})
  }

  for (const p of placed) report.actions.push(action('place', p.task.jobName, p.task, nodesById.get(p.node)?.name ?? null, `ports ${p.hostPorts.map((h) => h.hostPort).join(',') || '-'}`))

  // 5. Apply: starts (new placements and lost starts), then stops (make-before-break), then orphans.
  const starts: Array<{task: Task; nodeId: string; hostPorts: HostPortBinding[]}> = [
    ...buckets.start.filter((t) => t.nodeId).map((t) => ({task: t, nodeId: t.nodeId!, hostPorts: t.hostPorts})),
    ...placed.map((p) => ({task: p.task, nodeId: p.node, hostPorts: p.hostPorts})),
  ]
  if (options.dryRun) {
    for (const s of buckets.start) report.actions.push(action('start', s.jobName, s, s.nodeName, 'would start'))
    for (const s of buckets.stop) report.actions.push(action('stop', s.task.jobName, s.task, s.task.nodeName, `would stop: ${s.reason}`))
    for (const o of buckets.orphans) report.actions.push({kind: 'remove-orphan', job: o.container.labels[LABELS.job] ?? '?', instance: null, taskId: o.container.labels[LABELS.task] ?? null, node: nodesById.get(o.nodeId)?.name ?? null, detail: `would remove ${o.container.name}`, ok: true})
    report.unchanged = report.actions.length === 0
    return report
  }

  const startedOk: Task[] = []
  await forEachLimited(starts, options.concurrency ?? 16, async ({task, nodeId, hostPorts}) => {
    const node = nodesById.get(nodeId)!
    const job = jobsById.get(task.jobId)!
    const spec = containerSpecOf(task, job, cluster, hostPorts)
    try {
      const started = await clientOf(node).start(spec)
      store.write(() => {
        updateTask(store, task.id, {state: 'running', startedAt: ctx.clock.now(), reason: null}, ctx.clock.now())
        taskEvent(store, task, 'task.running', `${started.outcome} ${task.containerName} on ${node.name}`)
      })
      report.actions.push(action('start', job.name, task, node.name, started.outcome, true))
      startedOk.push(task)
    } catch (error) {
      const message = (error as Error).message
      store.write(() => {
        updateTask(store, task.id, {state: 'failed', finishedAt: ctx.clock.now(), reason: message}, ctx.clock.now())
        taskEvent(store, task, 'task.failed', message)
      })
      report.actions.push(action('start', job.name, task, node.name, message, false))
    }
  })

  // Make-before-break: an instance whose new-spec task now runs stops its old-spec task in this same pass.
  const stops = [...buckets.stop]
  const alreadyStopping = new Set(stops.map((s) => s.task.id))
  const runningByInstance = new Map<string, Task[]>()
  for (const t of stillLive) if (t.state === 'running') runningByInstance.set(`${t.jobId}/${t.instance}`, [...(runningByInstance.get(`${t.jobId}/${t.instance}`) ?? []), t])
  for (const fresh of startedOk) {
    for (const old of runningByInstance.get(`${fresh.jobId}/${fresh.instance}`) ?? []) {
      if (old.specHash !== fresh.specHash && !alreadyStopping.has(old.id)) {
        stops.push({task: old, reason: 'replaced by the new spec'})
        alreadyStopping.add(old.id)
      }
    }
  }

  await forEachLimited(stops, options.concurrency ?? 16, async ({task, reason}) => {
    const node = task.nodeId ? nodesById.get(task.nodeId) : undefined
    try {
      if (node && task.containerName && task.state !== 'pending') await clientOf(node).stop(task.containerName, options.stopGraceSeconds ?? 10)

      store.write(() => {
        updateTask(store, task.id, {state: 'killed', desired: 'stop', finishedAt: ctx.clock.now(), reason}, ctx.clock.now())
        taskEvent(store, task, 'task.killed', `stopped: ${reason}`)
      })
      report.actions.push(action('stop', task.jobName, task, task.nodeName, reason, true))
    } catch (error) {
      // Keep it live with desired=stop: the next pass tries again.
      store.write(() => updateTask(store, task.id, {desired: 'stop', reason}, ctx.clock.now()))
      report.actions.push(action('stop', task.jobName, task, task.nodeName, `stop failed: ${(error as Error).message}`, false))
    }
  })

  await forEachLimited(buckets.orphans, options.concurrency ?? 16, async ({nodeId, container}) => {
    const node = nodesById.get(nodeId)!
    const error = await clientOf(node).remove(container.name).then(() => null, (e: Error) => e)
    report.actions.push({kind: 'remove-orphan', job: container.labels[LABELS.job] ?? '?', instance: null, taskId: container.labels[LABELS.task] ?? null, node: node.name, detail: error ? `removing ${container.name} failed: ${error.message}` : `removed ${container.name} (no task owns it)`, ok: error === null})
    if (!error) store.write(() => appendEvent(store, {type: 'container.removed', subjectKind: 'node', subject: node.name, message: `removed orphan container ${container.name}`, data: {labels: container.labels}}))
  })

  report.unchanged = report.actions.length === 0
  return report
}

/** The scheduler's view: allocatable, what placed tasks hold, their ports; `runtime` as a label for runtime-pinned jobs. */
export function snapshotOf(nodes: readonly Node[], placedTasks: readonly Task[], jobsById: ReadonlyMap<string, Job>): Snapshot {
  const allocated = new Map<string, Resources>()
  const ports = new Map<string, number[]>()
  for (const t of placedTasks) {
    if (!t.nodeId) continue
    const job = jobsById.get(t.jobId)
    if (job) allocated.set(t.nodeId, addResources(allocated.get(t.nodeId) ?? ZERO_RESOURCES, job.spec.resources))
    ports.set(t.nodeId, [...(ports.get(t.nodeId) ?? []), ...t.hostPorts.map((h) => h.hostPort)])
  }

  const schedNodes: SchedNode[] = nodes.map((n) => ({
    id: n.id,
    name: n.name,
    state: n.state,
    labels: {runtime: n.runtime, ...n.labels},
    allocatable: allocatableOf(n),
    allocated: allocated.get(n.id) ?? ZERO_RESOURCES,
    usedPorts: ports.get(n.id) ?? [],
  }))
  return {nodes: schedNodes, placed: placedTasks.filter((t) => t.nodeId).map((t) => ({taskId: t.id, jobId: t.jobId, nodeId: t.nodeId!}))}
}

export function requestOf(task: Task, job: Job): TaskRequest {
  const constraints: Constraint[] = [...job.spec.constraints]
  if (job.spec.runtime) constraints.push({field: 'runtime', operator: 'IS', value: job.spec.runtime})
  return {
    taskId: task.id,
    jobId: job.id,
    instance: task.instance,
    resources: job.spec.resources,
    ports: job.spec.ports.length,
    constraints,
    preferences: job.spec.preferences,
    ...(job.spec.strategy ? {strategy: job.spec.strategy} : {}),
  }
}

function placementsOf(plan: Plan, pendingById: ReadonlyMap<string, Task>, jobsById: ReadonlyMap<string, Job>): Array<{task: Task; node: string; hostPorts: HostPortBinding[]}> {
  return plan.placements.map((p) => {
    const task = pendingById.get(p.taskId)!
    const job = jobsById.get(task.jobId)!
    const hostPorts = job.spec.ports.map((port, i) => ({containerPort: port.containerPort, hostPort: p.hostPorts[i]!, protocol: port.protocol}))
    return {task, node: p.nodeId, hostPorts}
  })
}

function containerSpecOf(task: Task, job: Job, cluster: string, hostPorts: HostPortBinding[]): ContainerSpec {
  return {
    name: task.containerName!,
    image: job.spec.image,
    ...(job.spec.command ? {command: job.spec.command} : {}),
    env: {...job.spec.env, CLUSTERCTL_JOB: job.name, CLUSTERCTL_INSTANCE: String(task.instance), CLUSTERCTL_TASK: task.id},
    cpuMilli: job.spec.resources.cpuMilli,
    memBytes: job.spec.resources.memBytes,
    ports: hostPorts.map((h) => ({containerPort: h.containerPort, hostPort: h.hostPort, protocol: h.protocol})),
    volumes: job.spec.volumes,
    labels: {...job.spec.labels, ...taskLabels({clusterId: cluster, jobName: job.name, instance: task.instance, taskId: task.id, specHash: job.specHash})},
  }
}

function taskEvent(store: Store, task: Pick<Task, 'id' | 'jobName' | 'instance'>, type: string, message: string): void {
  appendEvent(store, {type, subjectKind: 'task', subject: task.id, message: `${task.jobName}.${task.instance}: ${message}`, data: {job: task.jobName, instance: task.instance}})
}

function action(kind: PassAction['kind'], job: string, task: Pick<Task, 'id' | 'instance'>, node: string | null, detail: string, ok = true): PassAction {
  return {kind, job, instance: task.instance, taskId: task.id, node, detail, ok}
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!)
  }

  await Promise.all(Array.from({length: Math.min(limit, items.length)}, () => worker()))
}


/**
 * One pass of the reconciler: observe -> heartbeats and health -> diff -> record ->
 * schedule -> record -> apply -> record.
 *
 * Every action is idempotent: task rows (with their deterministic container
 * names) are written before containers are started, starts adopt what exists,
 * stops of what is gone succeed. A controller killed anywhere in a pass leaves
 * a state that the next pass completes.
 */
import {clusterSelector, containerName, LABELS, RuntimeClient, runtimeFor, taskLabels} from '../../runtime/index.js'
import type {ContainerRuntime, ContainerSpec} from '../../runtime/types.js'
import {allocatableOf, type Node, publicHostOf} from '../model/node.js'
import {addResources, type Resources, ZERO_RESOURCES} from '../model/resources.js'
import {type HostPortBinding, isLive, type Job, type Task} from '../model/task.js'
import {schedule} from '../scheduler/schedule.js'
import type {Constraint, Plan, PortRange, SchedNode, Snapshot, TaskRequest} from '../scheduler/types.js'
import {appendEvent} from '../state/events.js'
import {clusterId as readClusterId, insertTask, listJobs, listTasks, listTasksForReconcile, recentFailures, type TaskPatch, updateTask} from '../state/jobs.js'
import {listNodes, updateNodeAdminState, updateNodeHeartbeat} from '../state/nodes.js'
import {orphanSightings, pruneOrphanSightings, recordOrphanSighting} from '../state/orphans.js'
import type {Store} from '../state/store.js'
import {connectSpecOf, type ServiceContext} from '../context.js'
import {avoidedNodes, type BackoffSettings, diff, type NodeObservation} from './diff.js'
import {applyCheckResult, isCheckDue, isReady} from './health.js'
import {DEFAULT_HEARTBEAT, discountClusterWideSilence, type HeartbeatOutcome, type HeartbeatSettings, judgeHeartbeat, type NodeTransition} from './heartbeat.js'
import {type MoveSettings, planMoves} from './moves.js'
import {type NodeObserveResult, type ObserveOptions, observeNode} from './observe.js'
import {type HealthProbe, probeArgv} from './observation.js'

export interface PassOptions {
  dryRun?: boolean
  /** Seed for the scheduler's tie-breaks (default: derived from the time). */
  seed?: number
  portRange?: PortRange
  /** Concurrent nodes observed / acted on. */
  concurrency?: number
  /** Grace before SIGKILL when stopping. */
  stopGraceSeconds?: number
  heartbeat?: HeartbeatSettings
  observe?: ObserveOptions
  backoff?: BackoffSettings
  /** Moving running tasks to better nodes; false turns it off. */
  moves?: MoveSettings | false
  /** How long a container no task owns is left alone before it is removed. Default 30 s. */
  orphanGraceMs?: number
  /** Failures of an instance on a node count for this long (avoiding that node). Default 10 min. */
  failureWindowMs?: number
}

export type PassActionKind = 'place' | 'start' | 'adopt' | 'stop' | 'end' | 'unreachable' | 'move' | 'health' | 'remove-orphan'

/** The past-tense verb of each action, for log lines and reports. */
export const ACTION_VERBS: Readonly<Record<PassActionKind, string>> = {
  place: 'placed',
  start: 'started',
  adopt: 'adopted',
  stop: 'stopped',
  end: 'ended',
  unreachable: 'unreachable',
  move: 'moving',
  health: 'health',
  'remove-orphan': 'removed orphan',
}

/** The same in the plan's words (`schedule --dry-run`: "would ..."). */
export const PLAN_VERBS: Readonly<Record<PassActionKind, string>> = {
  place: 'place',
  start: 'start',
  adopt: 'adopt',
  stop: 'stop',
  end: 'end',
  unreachable: 'give up on',
  move: 'move',
  health: 'health',
  'remove-orphan': 'remove orphan',
}

export interface PassAction {
  kind: PassActionKind
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
  /** Node state changes this pass (heartbeats). */
  nodes: Array<{node: string} & NodeTransition>
  /** Instances waiting out their restart back-off. */
  backoff: Array<{job: string; instance: number; until: number; why: string}>
  /** True when the pass changed nothing. */
  unchanged: boolean
  /** Set when a running daemon did the work (the command recorded the change and waited for its pass). */
  convergedBy?: {pid: number; hostname: string}
}

const DEFAULT_ORPHAN_GRACE_MS = 30_000
const DEFAULT_FAILURE_WINDOW_MS = 10 * 60_000

export async function runPass(ctx: ServiceContext, options: PassOptions = {}): Promise<PassReport> {
  const {store} = ctx
  const now = ctx.clock.now()
  const dryRun = options.dryRun === true
  const concurrency = options.concurrency ?? 32
  const report: PassReport = {dryRun, actions: [], pending: [], unobserved: [], nodes: [], backoff: [], unchanged: true}
  const loaded = store.read(() => ({
    nodes: listNodes(store),
    jobs: listJobs(store),
    tasks: listTasksForReconcile(store),
    cluster: readClusterId(store),
    failures: recentFailures(store, now - (options.failureWindowMs ?? DEFAULT_FAILURE_WINDOW_MS)),
    sightings: orphanSightings(store),
  }))
  const {jobs, cluster} = loaded
  let {nodes, tasks} = loaded
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

  const record = (fn: () => void): void => {
    if (!dryRun) store.write(fn)
  }

  // 1. Observe every node: heartbeat, health checks due, containers. One round trip each, in parallel.
  const probesByNode = healthProbes(nodes, tasks, jobsById, now)
  const results = new Map<string, NodeObserveResult>()
  await forEachLimited(nodes, concurrency, async (node) => {
    const client = clientOf(node)
    results.set(node.id, await observeNode(client.transport, client.runtime, clusterSelector(cluster), probesByNode.get(node.id) ?? [], options.observe))
  })

  // 2. Heartbeats: node states.
  const outcomes = discountClusterWideSilence(new Map<string, HeartbeatOutcome>([...results].map(([id, r]) => [id, r.outcome])))
  const observed = new Map<string, NodeObservation>()
  nodes = nodes.map((node) => {
    const result = results.get(node.id)!
    observed.set(node.id, result.observation)
    if (!result.observation.ok) report.unobserved.push({node: node.name, error: result.observation.error ?? 'not observed'})
    const {patch, transition} = judgeHeartbeat(node, outcomes.get(node.id)!, ctx.clock.now(), options.heartbeat ?? DEFAULT_HEARTBEAT)
    if (transition) report.nodes.push({node: node.name, ...transition})
    return {...node, ...patch, usage: patch.usage === undefined ? node.usage : patch.usage}
  })
  record(() => {
    for (const node of nodes) {
      updateNodeHeartbeat(store, node.id, {state: node.state, missedHeartbeats: node.missedHeartbeats, heartbeatError: node.heartbeatError, lastSeenAt: node.lastSeenAt, stateSince: node.stateSince, usage: node.usage})
    }

    for (const t of report.nodes) appendEvent(store, {type: `node.${t.to}`, subjectKind: 'node', subject: t.node, message: `${t.from} -> ${t.to}: ${t.reason}`, data: {from: t.from, to: t.to}})
  })
  const nodesById = new Map(nodes.map((n) => [n.id, n]))

  // 3. Health check results.
  const healthChanges: Array<{task: Task; patch: TaskPatch; from: Task['health']}> = []
  tasks = tasks.map((task) => {
    const result = task.nodeId ? results.get(task.nodeId)?.probes.get(task.id) : undefined
    const check = jobsById.get(task.jobId)?.spec.healthCheck
    if (!result || !check) return task
    const update = applyCheckResult(task, check, result.passed, result.message, now)
    healthChanges.push({task, patch: update, from: task.health})
    return {...task, ...update}
  })
  record(() => {
    for (const {task, patch, from} of healthChanges) {
      updateTask(store, task.id, patch, now)
      if (patch.health !== from) taskEvent(store, task, `task.${patch.health}`, `health check ${patch.healthMessage}`)
    }
  })
  for (const {task, patch, from} of healthChanges) if (patch.health !== from) report.actions.push(action('health', task.jobName, task, task.nodeName, `${from} -> ${patch.health}: ${patch.healthMessage}`))

  // 4. Diff.
  const buckets = diff({
    jobs,
    tasks,
    observed,
    nodes: new Map(nodes.map((n) => [n.id, {name: n.name, state: n.state, adminState: n.adminState}])),
    recentFailures: loaded.failures,
    now,
    ...(options.backoff ? {backoff: options.backoff} : {}),
  })
  const jobName = (jobId: string): string => jobsById.get(jobId)?.name ?? jobId

  // 5. Record what observation taught us.
  record(() => {
    for (const {task} of buckets.adopt) {
      updateTask(store, task.id, {state: 'running', startedAt: task.startedAt ?? now, reason: null}, now)
      taskEvent(store, task, 'task.running', `adopted running container ${task.containerName} on ${task.nodeName}`)
    }

    for (const e of buckets.ended) {
      updateTask(store, e.task.id, {state: e.state, exitCode: e.exitCode, finishedAt: now, reason: e.reason, ...(e.stopContainer ? {desired: 'stop' as const} : {})}, now)
      taskEvent(store, e.task, `task.${e.state}`, `${e.reason} on ${e.task.nodeName}`)
    }

    for (const t of buckets.unreachable) {
      const node = t.nodeId ? nodesById.get(t.nodeId) : undefined
      updateTask(store, t.id, {state: 'unreachable', reason: `node ${node?.name ?? t.nodeName} is ${node?.state ?? 'unreachable'}`}, now)
      taskEvent(store, t, 'task.unreachable', `its node ${node?.name ?? t.nodeName} is ${node?.state ?? 'unreachable'}: replaced elsewhere; stopped if the node comes back`)
    }
  })
  for (const e of buckets.adopt) report.actions.push(action('adopt', jobName(e.task.jobId), e.task, e.task.nodeName, `container ${e.container.name} is running`))
  for (const e of buckets.ended) report.actions.push(action('end', jobName(e.task.jobId), e.task, e.task.nodeName, `${e.state}: ${e.reason}`))
  for (const t of buckets.unreachable) report.actions.push(action('unreachable', t.jobName, t, t.nodeName, `node ${nodesById.get(t.nodeId ?? '')?.state ?? 'unreachable'}: replacing it elsewhere`))
  for (const b of buckets.backoff) report.backoff.push({job: jobName(b.jobId), instance: b.instance, until: b.until, why: b.why})

  // 6. New tasks: missing instances, drain moves, and moves to better nodes when all is quiet.
  const stopping = new Set(buckets.stop.map((s) => s.task.id))
  const endedIds = new Set(buckets.ended.map((e) => e.task.id))
  const stillLive = tasks.filter((t) => isLive(t.state) && !endedIds.has(t.id) && !stopping.has(t.id))
  const unreachableIds = new Set(buckets.unreachable.map((t) => t.id))
  const holding = stillLive.filter((t) => t.state !== 'pending' && !unreachableIds.has(t.id) && t.state !== 'unreachable')
  // A node that could not be observed this pass takes no new work in it.
  const schedulable = nodes.map((n) => (observed.get(n.id)?.ok === false && n.state === 'ready' ? {...n, state: 'unreachable' as const} : n))
  const pins = new Map<string, Constraint>()
  const newTasks: Array<{task: Task; why: string}> = []
  const newTask = (job: Job, instance: number, restarts: number, why: string, replaces: string | null): Task => {
    const id = ctx.newId()
    const task: Task = {
      id,
      jobId: job.id,
      jobName: job.name,
      instance,
      nodeId: null,
      nodeName: null,
      state: 'pending',
      desired: 'run',
      health: 'unknown',
      healthFailures: 0,
      healthCheckedAt: null,
      healthMessage: null,
      replaces,
      containerName: containerName({clusterId: cluster, jobName: job.name, instance, taskId: id}),
      hostPorts: [],
      specHash: job.specHash,
      reason: null,
      reasonData: null,
      restarts,
      exitCode: null,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
    }
    newTasks.push({task, why})
    return task
  }

  for (const p of buckets.place) newTask(jobsById.get(p.jobId)!, p.instance, p.restarts, p.why, p.replaces ?? null)
  const quiet = buckets.place.length === 0 && buckets.backoff.length === 0 && buckets.unreachable.length === 0 && !stillLive.some((t) => t.state !== 'running' || (t.replaces !== null && stillLive.some((o) => o.id === t.replaces)))
  if (quiet && options.moves !== false) {
    const candidates = holding
      .filter((t) => jobsById.get(t.jobId)?.kind === 'service' && isReady(t, jobsById.get(t.jobId)!.spec.healthCheck) && t.nodeId && nodesById.get(t.nodeId)?.state === 'ready')
      .map((t) => ({request: requestOf(t, jobsById.get(t.jobId)!), nodeId: t.nodeId!, hostPorts: t.hostPorts.map((h) => h.hostPort), label: `${t.jobName}.${t.instance}`}))
    const moves = planMoves(snapshotOf(schedulable, holding, jobsById), candidates, {seed: options.seed ?? now % 2_147_483_647, ...(options.moves ? {settings: options.moves} : {})})
    for (const m of moves) {
      const old = holding.find((t) => t.id === m.taskId)!
      const fresh = newTask(jobsById.get(old.jobId)!, old.instance, old.restarts, `move from ${m.from.nodeName}: ${m.why}`, old.id)
      pins.set(fresh.id, {field: 'hostname', operator: 'IS', value: m.to.nodeName})
      report.actions.push(action('move', old.jobName, old, m.from.nodeName, `to ${m.to.nodeName}: ${m.why}`))
    }
  }

  record(() => {
    for (const {task, why} of newTasks) {
      insertTask(store, task)
      taskEvent(store, task, 'task.pending', `created (${why})`)
    }
  })

  // 7. Schedule every pending task, and record placements before any container starts.
  const created = newTasks.map((n) => n.task)
  const pendingTasks = [...stillLive.filter((t) => t.state === 'pending'), ...created]
  const pendingById = new Map(pendingTasks.map((t) => [t.id, t]))
  const requests = pendingTasks.map((t) => requestOf(t, jobsById.get(t.jobId)!, [...(pins.has(t.id) ? [pins.get(t.id)!] : []), ...avoidConstraint(avoidedNodes(loaded.failures, t.jobId, t.instance, options.backoff))]))
  const plan = pendingTasks.length === 0 ? {placements: [], pending: []} : schedule(snapshotOf(schedulable, holding, jobsById), requests, {seed: options.seed ?? now % 2_147_483_647, ...(options.portRange ? {portRange: options.portRange} : {})})
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

  // 8. Apply: starts (new placements and lost starts), then stops (make-before-break), then orphans.
  const starts: Array<{task: Task; nodeId: string; hostPorts: HostPortBinding[]}> = [
    ...buckets.start.filter((t) => t.nodeId).map((t) => ({task: t, nodeId: t.nodeId!, hostPorts: t.hostPorts})),
    ...placed.map((p) => ({task: {...p.task, nodeId: p.node, nodeName: nodesById.get(p.node)?.name ?? null}, nodeId: p.node, hostPorts: p.hostPorts})),
  ]
  const stops = [...buckets.stop, ...buckets.ended.filter((e) => e.stopContainer).map((e) => ({task: e.task, reason: e.reason, ended: true}))]
  const orphanCandidates = buckets.orphans
  if (dryRun) {
    for (const s of buckets.start) report.actions.push(action('start', s.jobName, s, s.nodeName, 'its container is missing'))
    for (const s of stops) report.actions.push(action('stop', s.task.jobName, s.task, s.task.nodeName, s.reason))
    for (const o of orphanCandidates) report.actions.push({kind: 'remove-orphan', job: o.container.labels[LABELS.job] ?? '?', instance: null, taskId: o.container.labels[LABELS.task] ?? null, node: nodesById.get(o.nodeId)?.name ?? null, detail: `${o.container.name}: no task owns it (removed once that has lasted ${(options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS) / 1000}s)`, ok: true})
    report.unchanged = report.actions.length === 0 && report.nodes.length === 0
    return report
  }

  const startedOk: Task[] = []
  await forEachLimited(starts, concurrency, async ({task, nodeId, hostPorts}) => {
    const node = nodesById.get(nodeId)!
    const job = jobsById.get(task.jobId)!
    const spec = containerSpecOf(task, job, cluster, hostPorts)
    try {
      const started = await clientOf(node).start(spec)
      const at = ctx.clock.now()
      store.write(() => {
        updateTask(store, task.id, {state: 'running', startedAt: at, reason: null}, at)
        taskEvent(store, task, 'task.running', `${started.outcome} ${task.containerName} on ${node.name}`)
      })
      report.actions.push(action('start', job.name, task, node.name, started.outcome, true))
      startedOk.push({...task, state: 'running', startedAt: at})
    } catch (error) {
      const message = (error as Error).message
      store.write(() => {
        updateTask(store, task.id, {state: 'failed', finishedAt: ctx.clock.now(), reason: message}, ctx.clock.now())
        taskEvent(store, task, 'task.failed', message)
      })
      report.actions.push(action('start', job.name, task, node.name, message, false))
    }
  })

  // Make-before-break: a task that now runs (and has no health check to pass first)
  // lets the task it replaces stop in this same pass: an old-spec task, or a move's origin.
  const alreadyStopping = new Set(stops.map((s) => s.task.id))
  for (const fresh of startedOk) {
    if (!isReady(fresh, jobsById.get(fresh.jobId)?.spec.healthCheck ?? null)) continue
    for (const old of holding) {
      if (old.jobId !== fresh.jobId || old.instance !== fresh.instance || alreadyStopping.has(old.id) || old.id === fresh.id) continue
      const reason = old.id === fresh.replaces ? `moved to ${nodesById.get(fresh.nodeId ?? '')?.name ?? 'another node'}` : old.specHash !== fresh.specHash ? 'replaced by the new spec' : null
      if (old.state === 'running' && reason) {
        stops.push({task: old, reason})
        alreadyStopping.add(old.id)
      }
    }
  }

  await forEachLimited(stops, concurrency, async (stop) => {
    const {task, reason} = stop
    const ended = 'ended' in stop
    const node = task.nodeId ? nodesById.get(task.nodeId) : undefined
    // A node that did not answer this pass: keep the wish (desired=stop); the stop happens when it answers.
    if (node && task.state !== 'pending' && observed.get(node.id)?.ok !== true) {
      if (task.desired !== 'stop') {
        store.write(() => {
          updateTask(store, task.id, {desired: 'stop', reason}, ctx.clock.now())
          taskEvent(store, task, 'task.stop-requested', `${reason}; it stops when ${node.name} answers again`)
        })
        report.actions.push(action('stop', task.jobName, task, node.name, `${reason} (when ${node.name} answers again)`, true))
      }

      return
    }

    try {
      if (node && task.containerName && task.state !== 'pending') await clientOf(node).stop(task.containerName, options.stopGraceSeconds ?? 10)
      store.write(() => {
        if (ended) updateTask(store, task.id, {desired: 'stop'}, ctx.clock.now())
        else {
          updateTask(store, task.id, {state: 'killed', desired: 'stop', finishedAt: ctx.clock.now(), reason}, ctx.clock.now())
          taskEvent(store, task, 'task.killed', `stopped: ${reason}`)
        }
      })
      report.actions.push(action('stop', task.jobName, task, task.nodeName, reason, true))
    } catch (error) {
      // Keep it live with desired=stop: the next pass tries again.
      if (!ended) store.write(() => updateTask(store, task.id, {desired: 'stop', reason}, ctx.clock.now()))
      report.actions.push(action('stop', task.jobName, task, task.nodeName, `stop failed: ${(error as Error).message}`, false))
    }
  })

  // Orphans: removed once nothing has owned them for the grace period.
  const grace = options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS
  const ripe = orphanCandidates.filter((o) => {
    const first = loaded.sightings.get(`${o.nodeId}/${o.container.name}`)
    return first !== undefined && now - first >= grace
  })
  store.write(() => {
    for (const [nodeId, obs] of observed) {
      if (!obs.ok) continue
      const names = orphanCandidates.filter((o) => o.nodeId === nodeId).map((o) => o.container.name)
      pruneOrphanSightings(store, nodeId, names)
      for (const name of names) recordOrphanSighting(store, nodeId, name, now)
    }
  })
  await forEachLimited(ripe, concurrency, async ({nodeId, container}) => {
    const node = nodesById.get(nodeId)!
    const error = await clientOf(node).remove(container.name).then(() => null, (e: Error) => e)
    report.actions.push({kind: 'remove-orphan', job: container.labels[LABELS.job] ?? '?', instance: null, taskId: container.labels[LABELS.task] ?? null, node: node.name, detail: error ? `removing ${container.name} failed: ${error.message}` : `removed ${container.name} (no task has owned it for ${grace / 1000}s)`, ok: error === null})
    if (!error) store.write(() => appendEvent(store, {type: 'container.removed', subjectKind: 'node', subject: node.name, message: `removed orphan container ${container.name}`, data: {labels: container.labels}}))
  })

  // 9. Drains that are done: the node is empty; it stays cordoned.
  store.write(() => {
    for (const node of nodes) {
      if (node.adminState !== 'draining') continue
      if (listTasks(store, {nodeId: node.id, live: true}).length > 0) continue
      updateNodeAdminState(store, node.id, 'cordoned', ctx.clock.now())
      appendEvent(store, {type: 'node.drained', subjectKind: 'node', subject: node.name, message: 'drained: no task left; it stays cordoned', data: {}})
    }
  })

  report.unchanged = report.actions.length === 0 && report.nodes.length === 0
  return report
}

/** The health checks due this pass, per node. */
function healthProbes(nodes: readonly Node[], tasks: readonly Task[], jobsById: ReadonlyMap<string, Job>, now: number): Map<string, HealthProbe[]> {
  const runtimes = new Map<string, ContainerRuntime>()
  const out = new Map<string, HealthProbe[]>()
  const nodesById = new Map(nodes.map((n) => [n.id, n]))
  for (const task of tasks) {
    const check = jobsById.get(task.jobId)?.spec.healthCheck ?? null
    const node = task.nodeId ? nodesById.get(task.nodeId) : undefined
    if (!node || !task.containerName || task.desired === 'stop' || !isCheckDue(task, check, now)) continue
    const runtime = runtimes.get(node.runtime) ?? runtimeFor(node.runtime)
    runtimes.set(node.runtime, runtime)
    const port = check!.port === null ? task.hostPorts[0] : task.hostPorts.find((h) => h.containerPort === check!.port) ?? task.hostPorts[0]
    const argv = probeArgv(check!, {host: publicHostOf(node), hostPort: port?.hostPort ?? null, containerName: task.containerName, runtime, execId: `hc-${task.id.slice(0, 8)}-${now}`})
    if (!argv) continue
    const list = out.get(node.id) ?? []
    list.push({taskId: task.id, argv, timeoutMs: check!.timeoutMs})
    out.set(node.id, list)
  }

  return out
}

/** Keeps a task off the named nodes (where its instance kept failing). */
function avoidConstraint(names: readonly string[]): Constraint[] {
  return names.length === 0 ? [] : [{field: 'hostname', operator: 'UNLIKE', value: names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')}]
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

export function requestOf(task: Task, job: Job, extra: readonly Constraint[] = []): TaskRequest {
  const constraints: Constraint[] = [...job.spec.constraints, ...extra]
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


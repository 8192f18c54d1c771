/**
 * One pass of the reconciler, the effectful sequence only: observe -> heartbeats and
 * health -> diff -> record -> plan new tasks and placements -> record -> apply -> record.
 * Every decision is pure and lives in diff.ts and plan.ts; this file reads the store,
 * talks to nodes, records what happened and fills the report (report.ts).
 *
 * Every action is idempotent: task rows (with their deterministic container
 * names) are written before containers are started, starts adopt what exists,
 * stops of what is gone succeed. A controller killed anywhere in a pass leaves
 * a state that the next pass completes.
 */
import {clusterSelector, LABELS, RuntimeClient, runtimeFor} from '../../runtime/index.js'
import {machineOf, type Node} from '../model/node.js'
import {isLive, type Job, type Task} from '../model/task.js'
import {forEachLimited, sleep} from '../async.js'
import {fireRuns} from './runs.js'
import {connectSpecOf, type ServiceContext} from '../context.js'
import type {PortRange} from '../scheduler/types.js'
import {appendEvent} from '../state/events.js'
import {clusterId as readClusterId, insertTask, listJobs, listTasks, listTasksForReconcile, nodeIdsOfJobs, recentFailures, type TaskPatch, updateJob, updateTask} from '../state/jobs.js'
import {listNodes, updateNodeAdminState, updateNodeHeartbeat} from '../state/nodes.js'
import {readEdgeImage, readSettings, type Settings} from '../state/settings.js'
import {edgeServices} from '../edge/services.js'
import {DEFAULT_EDGE_IMAGE, drainedEverywhere, drainTimedOut, drainTimeoutOf} from '../edge/runner.js'
import {edgeNodesOf, syncEdges, viewsOf} from './edges.js'
import {recentSamples, recordSample, replaceConditions} from '../state/health.js'
import {planAutoDrain} from './auto-drain.js'
import {conditionEvent, DEFAULT_HEALTH, type HealthSettings, isProbeDue, judgeProbe, probeArgsFor} from '../health/judge.js'
import {parseHealthProbe} from '../health/parse.js'
import {healthProbeScript} from '../health/probe.js'
import {orphanSightings, pruneOrphanSightings, recordOrphanSighting} from '../state/orphans.js'
import type {Store} from '../state/store.js'
import {listTeams} from '../state/teams.js'
import {type BackoffSettings, diff, type NodeObservation} from './diff.js'
import {applyCheckResult, applyReadinessResult} from './health.js'
import {DEFAULT_DETECTOR, type DetectorSettings, describeBasis, heartbeatDeadline} from './detector.js'
import {DEFAULT_HEARTBEAT, discountClusterWideSilence, type HeartbeatOutcome, type HeartbeatSettings, judgeHeartbeat} from './heartbeat.js'
import {DEFAULT_MOVES, type MoveSettings} from './moves.js'
import {sameBlock, volumePlacement, type VolumePlacement, volumesToRecord, withVolumeReservations} from './volumes.js'
import {freshProbes, type NfsProbes, NFS_PROBE_TIMEOUT_MS, NFS_PROBES_META_KEY, nfsPlacement, nfsProbeArgv, parseNfsProbe, probeKey, probesWanted, storedProbes} from './nfs-probe.js'
import {readMeta, writeMeta} from '../state/meta.js'
import type {Transport} from '../transport.js'
import {listVolumes, recordVolumeNode, recordVolumeUsage} from '../state/volumes.js'
import {localVolumePath} from '../model/volume.js'
import {type NodeObserveResult, type ObserveOptions, observeNode} from './observe.js'
import {heldPorts} from './ports.js'
import {priorityOf} from './preempt.js'
import {serviceAddressEnv} from '../edge/injected.js'
import {carryOver, containerSpecOf, DEFAULT_FAILURE_WINDOW_MS, DEFAULT_ORPHAN_GRACE_MS, dependencyWaits, healthProbes, isDrainDone, leftoversOfStoppedJobs, networkRemovals, passSeed, planNewTasks, planPlacements, planPreemptions, readinessKey, ripeOrphans, sameInstanceStops, schedulableNodes, startsOf, stopsOf, stopWaitsForNode} from './plan.js'
import {emptyReport, isUnchanged, type PassReport, taskAction as action} from './report.js'
import {afterFailure, judgeDeployment, planRollouts} from './rollout.js'
import {deploymentFailures, lastStable, openDeployments, rollbackTarget, startDeployment, updateDeployment} from '../state/deployments.js'
import {type Deployment, inCanaryPhase} from '../model/deployment.js'

export interface PassOptions {
  dryRun?: boolean
  /** Seed for the scheduler's tie-breaks (default: derived from the time; reported either way). */
  seed?: number
  portRange?: PortRange
  /** Concurrent nodes observed / acted on. */
  concurrency?: number
  /** Grace before SIGKILL when stopping. */
  stopGraceSeconds?: number
  heartbeat?: HeartbeatSettings
  /** Each node's heartbeat deadline: floor, ceiling, phi threshold (detector.ts). */
  detector?: DetectorSettings
  /**
   * `patient` defaults to true: a one-shot pass counts any answer (a node that answers
   * at all is alive). The daemon passes false: each node's deadline comes from the detector.
   */
  observe?: ObserveOptions
  backoff?: BackoffSettings
  /** Moving running tasks to better nodes; false turns it off. */
  moves?: MoveSettings | false
  /** How long a container no task owns is left alone before it is removed. Default 30 s. */
  orphanGraceMs?: number
  /** Failures of an instance on a node count for this long (avoiding that node). Default 10 min. */
  failureWindowMs?: number
  /** The health probe (docs/health.md): how often, thresholds, trend; false: none. */
  health?: HealthSettings | false
  /** `daemon --auto-drain`: cordon and drain (when what-if says it fits) a node with a critical condition, one at a time. */
  autoDrain?: boolean
  /**
   * Only these jobs (ids): the pass acts on their tasks alone (no moves, no orphans, other
   * jobs' pending work untouched; their tasks still hold their resources and ports).
   * When every one of them is stopped (stop, rm), only the nodes that run their tasks are
   * observed. What a command that changed those jobs runs; the daemon's passes cover all.
   */
  jobs?: readonly string[]
  /** How long a task must be pending before it may preempt lower-priority tasks (default 3 min; preempt.ts). */
  preemptionDelayMs?: number
  /** false: leave the edge proxies alone this pass (their tasks stop without draining). */
  edges?: boolean
  /**
   * false (the daemon): a task draining on the edges is left running, the next pass looks again. Default (a
   * one-shot command): the pass polls the edges until its drains end or time out, then stops those tasks.
   */
  drainWait?: boolean
}

/** How often a one-shot pass reads the edges while it waits for drains. */
const DRAIN_POLL_MS = 1_000

/** Watched nodes grouped by how they are reached: one group per machine, address, user, runtime and sudo. */
function sameMachineGroups(nodes: readonly Node[]): Node[][] {
  const groups = new Map<string, Node[]>()
  for (const n of nodes) {
    const key = n.resolvedAddress ? `${n.resolvedAddress}\u0000${n.runtime}\u0000${String(n.sudo)}` : `id\u0000${n.id}`
    const g = groups.get(key)
    if (g === undefined) groups.set(key, [n])
    else g.push(n)
  }
  return [...groups.values()]
}

/** The pass's move settings: the caller's (false: none), consolidation from the cluster setting unless the caller chose. */
function movesOf(moves: MoveSettings | false | undefined, settings: Settings): MoveSettings | false {
  if (moves === false) return false
  return {...(moves ?? DEFAULT_MOVES), consolidate: moves?.consolidate ?? settings.consolidate}
}

/**
 * The NFS answers a placement needs (nfs-probe.ts): the fresh ones from the state file, and a
 * probe, in parallel, of each (machine, export) a pending task may go to that has none. A dry
 * run neither probes nor records: it uses what is known.
 */
async function probeNfsExports(ctx: ServiceContext, input: {pending: readonly Task[]; jobsById: ReadonlyMap<string, Job>; schedulable: readonly Node[]; pinned: VolumePlacement; dryRun: boolean; concurrency: number; transportOf: (n: Node) => Transport}): Promise<NfsProbes> {
  const {store} = ctx
  if (!input.pending.some((t) => input.jobsById.get(t.jobId)?.spec.volumes.some((v) => v.nfs))) return new Map()
  const probes = freshProbes(store.read(() => readMeta(store, NFS_PROBES_META_KEY)), ctx.clock.now())
  const wanted = input.dryRun ? [] : probesWanted(input.pending, input.jobsById, input.schedulable, input.pinned, probes, (n) => n.resolvedAddress)
  if (wanted.length === 0) return probes
  await forEachLimited(wanted, input.concurrency, async ({node, nfs, alsoFor}) => {
    const answer = await input.transportOf(node).exec(nfsProbeArgv(nfs), {timeoutMs: NFS_PROBE_TIMEOUT_MS}).then(
      (r) => parseNfsProbe(r, ctx.clock.now()),
      (error: unknown) => ({ok: false, error: `the probe did not run: ${error instanceof Error ? error.message.split('\n')[0]! : String(error)}`, at: ctx.clock.now()}),
    )
    for (const id of [node.id, ...alsoFor]) probes.set(probeKey(id, nfs), answer)
  })
  store.write(() => writeMeta(store, NFS_PROBES_META_KEY, storedProbes(probes)))
  return probes
}

/** The health probe's share of an observation (all of it runs beside the container listing). */
const HEALTH_PROBE_TIMEOUT_MS = 6_000

export async function runPass(ctx: ServiceContext, options: PassOptions = {}): Promise<PassReport> {
  const {store} = ctx
  const now = ctx.clock.now()
  const dryRun = options.dryRun === true
  const concurrency = options.concurrency ?? 32
  const seed = passSeed(options.seed, now)
  const report = emptyReport(dryRun, seed)
  const loaded = store.read(() => ({
    nodes: listNodes(store),
    jobs: listJobs(store),
    tasks: listTasksForReconcile(store),
    cluster: readClusterId(store),
    failures: recentFailures(store, now - (options.failureWindowMs ?? DEFAULT_FAILURE_WINDOW_MS)),
    sightings: orphanSightings(store),
    settings: readSettings(store),
    teams: listTeams(store),
    deployments: openDeployments(store),
    deploymentFailures: deploymentFailures(store),
    edgeImage: readEdgeImage(store),
    volumes: listVolumes(store),
  }))
  const {jobs, cluster} = loaded
  let {nodes, tasks} = loaded
  // 0. Runs of scheduled and dependent jobs: new runs' tasks are recorded now, and placed and started below
  // (not in a pass scoped to some jobs, which must leave every other job alone).
  const runEvents = options.jobs ? [] : fireRuns({store, jobs, cluster, now, newId: ctx.newId, dryRun})
  if (runEvents.length > 0) {
    report.runs = runEvents
    if (!dryRun) tasks = store.read(() => listTasksForReconcile(store))
  }
  const jobsById = new Map(jobs.map((j) => [j.id, j]))
  const jobsByName = new Map(jobs.map((j) => [j.name, j]))
  const only = options.jobs ? new Set(options.jobs) : null
  const inScope = (t: Pick<Task, 'jobId'>): boolean => only === null || only.has(t.jobId)
  // A pass scoped to stopped jobs (stop, rm) reaches only the nodes that hold (or held) their containers.
  const stoppedScope = only !== null && jobs.filter((j) => only.has(j.id)).every((j) => j.state === 'stopped')
  const watched = stoppedScope ? nodesHolding(nodes, tasks.filter(inScope), store.read(() => nodeIdsOfJobs(store, [...only]))) : nodes
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
  const probesByNode = healthProbes(watched, tasks.filter(inScope), jobsById, now)
  const results = new Map<string, NodeObserveResult>()
  const detector = options.detector ?? DEFAULT_DETECTOR
  const health = options.health === false ? null : options.health ?? DEFAULT_HEALTH
  // Names of one machine reached the same way (address, user, runtime, sudo) see the same
  // containers and answer the same heartbeat: one observation serves them all, with all
  // their health checks (a lab of 200 names on one host is one round trip, not 200).
  await forEachLimited(sameMachineGroups(watched), concurrency, async (group) => {
    const node = group[0]!
    const client = clientOf(node)
    const deadline = heartbeatDeadline(node.heartbeatLatencies, detector)
    // A node that already missed a heartbeat gets less time to connect (twice its deadline, at least 3 s):
    // a crashed host's dead connection would otherwise hold its second miss for the whole ceiling.
    const connectTimeoutMs = node.state === 'suspect' ? Math.min(detector.ceilingMs, Math.max(2 * deadline.deadlineMs, 3_000)) : detector.ceilingMs
    // The health probe rides along every 30 s (not every pass), in the same round trip (one per machine).
    // The runtime's own check is left out: the observation's container listing is that check (its answer is the sample's).
    // Due when any name of the machine is due (a name added since the last probe is probed at once).
    const healthProbe = health && group.some((n) => isProbeDue(n, now, health.intervalMs)) ? {...healthProbeScript({...probeArgsFor(node), runtime: null}), timeoutMs: HEALTH_PROBE_TIMEOUT_MS} : null
    // The local volumes on the machine are measured with the health probe (du can be slow: not every pass).
    const ids = new Set(group.map((n) => n.id))
    const volumePaths = healthProbe ? loaded.volumes.filter((v) => v.kind === 'local' && v.nodeId !== null && ids.has(v.nodeId)).map((v) => localVolumePath(v)) : []
    const observe: ObserveOptions = {patient: true, connectTimeoutMs, heartbeatTimeoutMs: deadline.deadlineMs, deadlineBasis: describeBasis(deadline), healthProbe, volumePaths, ...options.observe}
    const result = await observeNode(client.transport, client.runtime, clusterSelector(cluster), group.flatMap((n) => probesByNode.get(n.id) ?? []), observe)
    for (const n of group) results.set(n.id, result)
  })

  // 2. Heartbeats: node states.
  const outcomes = discountClusterWideSilence(new Map<string, HeartbeatOutcome>([...results].map(([id, r]) => [id, r.outcome])))
  const observed = new Map<string, NodeObservation>()
  nodes = nodes.map((node) => {
    const result = results.get(node.id)
    if (!result) return node // not observed in a pass scoped to stopped jobs: as recorded
    observed.set(node.id, result.observation)
    if (!result.observation.ok) report.unobserved.push({node: node.name, error: result.observation.error ?? 'not observed'})
    const {patch, transition} = judgeHeartbeat(node, outcomes.get(node.id)!, ctx.clock.now(), options.heartbeat ?? DEFAULT_HEARTBEAT)
    if (transition) report.nodes.push({node: node.name, ...transition})
    return {...node, ...patch, usage: patch.usage === undefined ? node.usage : patch.usage, heartbeatLatencies: patch.heartbeatLatencies ?? node.heartbeatLatencies}
  })
  record(() => {
    for (const node of nodes) {
      if (!results.has(node.id)) continue
      updateNodeHeartbeat(store, node.id, {state: node.state, missedHeartbeats: node.missedHeartbeats, heartbeatError: node.heartbeatError, lastSeenAt: node.lastSeenAt, stateSince: node.stateSince, usage: node.usage, heartbeatLatencies: node.heartbeatLatencies})
    }

    for (const t of report.nodes) appendEvent(store, {type: `node.${t.to}`, subjectKind: 'node', subject: t.node, message: `${t.from} -> ${t.to}: ${t.reason}`, data: {from: t.from, to: t.to}})
  })

  // 2a. Disk used by local volumes, as measured.
  const measured = loaded.volumes.flatMap((v) => {
    const used = v.nodeId === null ? undefined : results.get(v.nodeId)?.volumeUsage?.get(localVolumePath(v))
    return used === undefined ? [] : [{id: v.id, used}]
  })
  if (measured.length > 0) record(() => { for (const m of measured) recordVolumeUsage(store, m.id, m.used, now) })

  // 2b. Health probes that answered: samples, conditions (and their events).
  if (health) {
    const probedAt = ctx.clock.now()
    nodes = nodes.map((node) => {
      const result = results.get(node.id)
      const output = result?.healthProbe
      if (output == null) return node
      const sample = {...parseHealthProbe(output, probedAt), runtime: {ok: result!.observation.ok, detail: result!.observation.error ?? null}}
      const judged = judgeProbe(node.conditions, store.read(() => recentSamples(store, node.id)), sample, health)
      for (const change of judged.changes) (report.conditions ??= []).push({node: node.name, kind: change.kind, type: change.condition.type, severity: change.condition.severity, message: change.condition.message})
      record(() => {
        recordSample(store, node.id, judged.sample)
        replaceConditions(store, node.id, judged.conditions)
        for (const change of judged.changes) appendEvent(store, {subjectKind: 'node', subject: node.name, ...conditionEvent(node.name, change)})
      })
      return {...node, conditions: judged.conditions, healthProbedAt: probedAt}
    })
  }

  // 2c. Guarded auto-drain (opt-in): one decision per pass at most, recorded as an event.
  if (options.autoDrain && !options.jobs) {
    const decision = planAutoDrain({nodes, jobs, tasks, volumes: loaded.volumes, seed})
    const target = decision ? nodes.find((n) => n.name === decision.node) : undefined
    if (decision && target) {
      const adminState = decision.kind === 'drain' ? ('draining' as const) : ('cordoned' as const)
      record(() => {
        updateNodeAdminState(store, target.id, adminState, now)
        appendEvent(store, {type: `node.auto-${decision.kind}`, subjectKind: 'node', subject: target.name, message: decision.why, data: {node: target.name}})
      })
      report.autoDrain = decision
      nodes = nodes.map((n) => (n.id === target.id ? {...n, adminState, state: n.state === 'ready' || n.state === 'cordoned' ? adminState : n.state} : n))
    }
  }

  const nodesById = new Map(nodes.map((n) => [n.id, n]))

  // 3. Health check results.
  const healthChanges: Array<{task: Task; patch: TaskPatch; from: Task['health']}> = []
  tasks = tasks.map((task) => {
    const probes = task.nodeId ? results.get(task.nodeId)?.probes : undefined
    const spec = jobsById.get(task.jobId)?.spec
    const result = probes?.get(task.id)
    const readiness = probes?.get(readinessKey(task.id))
    if (!spec || (!result && !readiness)) return task
    const update: TaskPatch = result && spec.healthCheck ? applyCheckResult(task, spec.healthCheck, result.passed, result.message, now) : {}
    if (readiness && spec.readinessCheck) Object.assign(update, applyReadinessResult(task, readiness.passed, now))
    healthChanges.push({task, patch: update, from: task.health})
    return {...task, ...update}
  })
  record(() => {
    for (const {task, patch, from} of healthChanges) {
      updateTask(store, task.id, patch, now)
      if (patch.readiness !== undefined && patch.readiness !== (task.readiness ?? 'unknown')) taskEvent(store, task, `task.${patch.readiness}`, `readiness check: ${patch.readiness}`)
      if (patch.health !== undefined && patch.health !== from) taskEvent(store, task, `task.${patch.health}`, `health check ${patch.healthMessage}`)
    }
  })
  for (const {task, patch, from} of healthChanges) if (patch.health !== undefined && patch.health !== from) report.actions.push(action('health', task.jobName, task, task.nodeName, `${from} -> ${patch.health}: ${patch.healthMessage}`))

  // 4. Diff.
  const canaryJobs = new Set(jobs.filter((j) => {
    const dep = loaded.deployments.get(j.id)
    return dep !== undefined && dep.specHash === j.specHash && inCanaryPhase(dep, j.spec.upgrade)
  }).map((j) => j.id))
  const buckets = diff({
    jobs: only ? jobs.filter((j) => only.has(j.id)) : jobs,
    tasks: only ? tasks.filter(inScope) : tasks,
    observed,
    nodes: new Map(nodes.map((n) => [n.id, {name: n.name, state: n.state, adminState: n.adminState, machine: machineOf(n)}])),
    recentFailures: loaded.failures,
    now,
    ...(options.backoff ? {backoff: options.backoff} : {}),
    canaryJobs,
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

  // 5b. Rollouts (rollout.ts): each open deployment judged on what was observed and its outcome recorded (a
  // failure rolls the job back or pauses it); then which instances on an older spec get their new task now, and
  // which old tasks stop first.
  const changed = judgeRollouts(ctx, {jobs: jobs.filter((j) => only === null || only.has(j.id)), tasks, deployments: loaded.deployments, failures: loaded.deploymentFailures, now, report, dryRun})
  const rolling = jobs.filter((j) => (only === null || only.has(j.id)) && !changed.rolledBack.has(j.id))
  const rollout = planRollouts(rolling, tasks, {...buckets, roll: buckets.roll.filter((r) => !changed.rolledBack.has(r.jobId))}, new Map([...loaded.deployments, ...changed.paused]), now)
  // Start order: a job that has not started waits for the jobs it depends on (plan.ts dependencyWaits).
  const waits = new Map([...dependencyWaits(jobs, tasks, now)].filter(([jobId]) => only === null || only.has(jobId)))
  if (waits.size > 0) {
    buckets.place = buckets.place.filter((p) => !waits.has(p.jobId))
    report.waiting = [...waits].map(([jobId, why]) => ({job: jobName(jobId), why}))
  }

  // A job rolled back in this pass starts nothing more of the spec it leaves (the diff's replacements were of it);
  // the next pass places its missing instances with the spec it returns to.
  if (changed.rolledBack.size > 0) buckets.place = buckets.place.filter((p) => !changed.rolledBack.has(p.jobId))
  buckets.place.push(...rollout.place)
  buckets.stop.push(...rollout.stop)

  // 6. New tasks: missing instances, drain moves, and moves to better nodes when all is quiet.
  const carried = carryOver(tasks, buckets)
  const {holding} = carried
  // Every local volume's size stays reserved on its node's disk (volumes.ts).
  const schedulable = withVolumeReservations(schedulableNodes(nodes, observed), loaded.volumes)
  // Ports still held on each machine, by tasks about to stop and by containers no task owns too.
  const held = heldPorts(nodes, tasks, observed)
  const fresh = planNewTasks({buckets, carried, jobsById, nodes, schedulable, cluster, now, seed, newId: ctx.newId, held, ...(only ? {moves: false as const} : {moves: movesOf(options.moves, loaded.settings)})})
  for (const m of fresh.moves) report.actions.push(action('move', m.old.jobName, m.old, m.old.nodeName, `to ${m.to}: ${m.why}`))
  record(() => {
    for (const {task, why} of fresh.created) {
      insertTask(store, task)
      taskEvent(store, task, 'task.pending', `created (${why})`)
    }
  })

  // 7. Schedule every pending task (a task with a local volume only where its volume is, or not while that node is
  // not ready), and record placements, and the nodes of the local volumes they give one, before any container starts.
  const pendingTasks = [...carried.stillLive.filter((t) => t.state === 'pending' && inScope(t)), ...fresh.created.map((n) => n.task)]
  const volumes = new Map(loaded.volumes.map((v) => [v.name, v]))
  const pinned = volumePlacement(pendingTasks, jobsById, volumes, nodesById, now)
  const probes = await probeNfsExports(ctx, {pending: pendingTasks, jobsById, schedulable, pinned, dryRun, concurrency, transportOf: (n) => clientOf(n).transport})
  const {plan, placed, pendingById} = planPlacements({
    volumes: nfsPlacement(pendingTasks, jobsById, schedulable, pinned, probes),
    pending: pendingTasks,
    pins: fresh.pins,
    schedulable,
    holding,
    jobsById,
    recentFailures: loaded.failures,
    held,
    seed,
    teams: loaded.teams,
    ...(options.backoff ? {backoff: options.backoff} : {}),
    ...(options.portRange ? {portRange: options.portRange} : {}),
  })
  report.totals = {placed: placed.length, pending: plan.pending.length, nodesUsed: new Set([...holding.map((t) => t.nodeId!), ...placed.map((p) => p.node)]).size}
  const claimed = placed.flatMap((p) => volumesToRecord(p.task, jobsById.get(p.task.jobId)!, p.node, volumes, ctx.newId, now))
  for (const v of claimed) volumes.set(v.name, v)
  record(() => {
    for (const v of claimed) recordVolumeNode(store, v, now)
    for (const p of placed) {
      updateTask(store, p.task.id, {state: 'staging', nodeId: p.node, hostPorts: p.hostPorts, reason: null, reasonData: null}, now)
      taskEvent(store, p.task, 'task.staging', `placed on ${nodesById.get(p.node)?.name ?? p.node}${p.hostPorts.length ? ` (ports ${p.hostPorts.map((h) => `${h.hostPort}->${h.containerPort}`).join(', ')})` : ''}`, {seed})
    }

    for (const p of plan.pending) {
      const task = pendingById.get(p.taskId)!
      if (task.reason !== p.reason) {
        updateTask(store, task.id, {reason: p.reason, reasonData: {counts: p.counts, details: p.details}}, now)
        // A blocked task's reason counts the minutes its node has been down: one event, not one a minute.
        if (!sameBlock(task.reason, p.reason)) taskEvent(store, task, 'task.unschedulable', p.reason)
      }
    }
  })
  // 7b. Preemptions (a full pass only): tasks pending for the delay stop lower-priority ones on one node and take their place.
  const preemptions = only ? [] : planPreemptions({plan, placed, pendingById, schedulable, holding, jobsById, held, seed, now, ...(options.portRange ? {portRange: options.portRange} : {}), ...(options.preemptionDelayMs === undefined ? {} : {delayMs: options.preemptionDelayMs})})
  const preempting = new Set(preemptions.map((p) => p.preemptor.id))
  record(() => {
    for (const p of preemptions) {
      const node = nodesById.get(p.nodeId)!.name
      updateTask(store, p.preemptor.id, {state: 'staging', nodeId: p.nodeId, hostPorts: p.hostPorts, reason: null, reasonData: null}, now)
      taskEvent(store, p.preemptor, 'task.preempts', `preempts ${p.victims.map((v) => `${v.jobName}.${v.instance} (priority ${priorityOf(jobsById.get(v.jobId)!)})`).join(', ')} on ${node} (priority ${priorityOf(jobsById.get(p.preemptor.jobId)!)}, pending since ${new Date(p.preemptor.createdAt).toISOString()})${p.beyondBudget.length ? `; beyond the disruption budget of ${p.beyondBudget.join(', ')} (preemption: force)` : ''}`, {node, victims: p.victims.map((v) => v.id), beyondBudget: p.beyondBudget})
    }
  })
  for (const p of plan.pending) {
    if (preempting.has(p.taskId)) continue
    const task = pendingById.get(p.taskId)!
    report.pending.push({job: task.jobName, instance: task.instance, taskId: task.id, reason: p.reason, counts: p.counts as Record<string, number>})
  }

  for (const p of preemptions) {
    const node = nodesById.get(p.nodeId)!.name
    const by = `${p.preemptor.jobName}.${p.preemptor.instance} (priority ${priorityOf(jobsById.get(p.preemptor.jobId)!)})`
    for (const v of p.victims) report.actions.push(action('preempt', v.jobName, v, node, `preempted by ${by}${p.beyondBudget.includes(v.jobName) ? ' beyond its disruption budget (preemption: force)' : ''}`, true))
    report.actions.push(action('place', p.preemptor.jobName, p.preemptor, node, `after preempting ${p.victims.length}; ports ${p.hostPorts.map((h) => h.hostPort).join(',') || '-'}`))
  }

  for (const p of placed) report.actions.push(action('place', p.task.jobName, p.task, nodesById.get(p.node)?.name ?? null, `ports ${p.hostPorts.map((h) => h.hostPort).join(',') || '-'}`))

  // 8. Apply: starts (new placements and lost starts), then stops (make-before-break), then orphans.
  const starts = startsOf(buckets.start, placed, nodesById)
  const stops = stopsOf(buckets)
  // Orphans need every job's tasks to tell: a scoped pass leaves them to a full one, except
  // the leftovers of the stopped jobs it is scoped to, which go at once.
  const leftovers = stoppedScope ? leftoversOfStoppedJobs(buckets.orphans, new Set(jobs.filter((j) => only.has(j.id)).map((j) => j.name))) : []
  const orphanCandidates = only ? leftovers : buckets.orphans
  const grace = options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS
  if (dryRun) {
    for (const s of buckets.start) report.actions.push(action('start', s.jobName, s, s.nodeName, 'its container is missing'))
    for (const s of stops) report.actions.push(action('stop', s.task.jobName, s.task, s.task.nodeName, s.reason))
    for (const o of orphanCandidates) report.actions.push({kind: 'remove-orphan', job: o.container.labels[LABELS.job] ?? '?', instance: null, taskId: o.container.labels[LABELS.task] ?? null, node: nodesById.get(o.nodeId)?.name ?? null, detail: `${o.container.name}: no task owns it (removed once that has lasted ${grace / 1000}s)`, ok: true})
    report.unchanged = isUnchanged(report)
    return report
  }

  // Containers this pass removed: the networks they used may go too (10.).
  const removedContainers = new Set<string>()
  const stopOne = async (stop: (typeof stops)[number]): Promise<void> => {
    const {task, reason} = stop
    const ended = stop.ended === true
    const node = task.nodeId ? nodesById.get(task.nodeId) : undefined
    // A node that did not answer this pass: keep the wish (desired=stop); the stop happens when it answers.
    if (node && stopWaitsForNode(task, node, observed)) {
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
      if (node && task.containerName && task.state !== 'pending') {
        await clientOf(node).stop(task.containerName, options.stopGraceSeconds ?? 10)
        removedContainers.add(task.containerName)
      }
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
  }

  // The containers of ended (unhealthy) tasks go first: a replacement never runs beside the container it replaces,
  // so a job never has more containers than its rollout bound allows. The other stops come after the starts
  // (make-before-break).
  await forEachLimited(stops.filter((s) => s.ended), concurrency, stopOne)

  // Victims stop before their preemptor starts (their room is what it needs); a failed stop puts it back to pending.
  await forEachLimited(preemptions, concurrency, async (p) => {
    const node = nodesById.get(p.nodeId)!
    const reason = `preempted by ${p.preemptor.jobName}.${p.preemptor.instance} (priority ${priorityOf(jobsById.get(p.preemptor.jobId)!)})`
    const failures: string[] = []
    for (const victim of p.victims) {
      try {
        if (victim.containerName) await clientOf(node).stop(victim.containerName, options.stopGraceSeconds ?? 10)
        store.write(() => {
          updateTask(store, victim.id, {state: 'killed', desired: 'stop', finishedAt: ctx.clock.now(), reason}, ctx.clock.now())
          taskEvent(store, victim, 'task.killed', `stopped: ${reason}`)
        })
      } catch (error) {
        failures.push(`${victim.jobName}.${victim.instance}: ${(error as Error).message}`)
        store.write(() => updateTask(store, victim.id, {desired: 'stop', reason}, ctx.clock.now()))
      }
    }

    if (failures.length === 0) starts.push({task: {...p.preemptor, nodeId: p.nodeId, nodeName: node.name}, nodeId: p.nodeId, hostPorts: p.hostPorts})
    else store.write(() => updateTask(store, p.preemptor.id, {state: 'pending', nodeId: null, hostPorts: [], reason: `preemption on ${node.name} waits: stopping ${failures.join('; ')}`}, ctx.clock.now()))
  })

  const startedOk: Task[] = []
  await forEachLimited(starts, concurrency, async ({task, nodeId, hostPorts}) => {
    const node = nodesById.get(nodeId)!
    const job = jobsById.get(task.jobId)!
    try {
      const spec = containerSpecOf(task, job, cluster, hostPorts, serviceAddressEnv(job.spec.uses, jobsByName, nodes), volumes)
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

  // Make-before-break in this same pass: what a task that now runs supersedes stops too.
  stops.push(...sameInstanceStops(startedOk, holding, new Set(stops.map((s) => s.task.id)), jobsById, nodesById, ctx.clock.now(), canaryJobs))

  // 8b. The edge proxies (edges.ts): a running task of a service the edges front stops only once its backend has
  // drained on every edge that answers (or its drain timeout passed); the edges are brought to what the state says now
  // (new ready backends in, draining ones out of rotation, a down node's in maintenance) before that is judged.
  const edges = options.edges === false ? [] : edgeNodesOf(nodes)
  const fronted = (t: Task): boolean => edges.length > 0 && jobsById.get(t.jobId)?.servicePort != null && t.state === 'running' && t.hostPorts.some((h) => h.protocol === 'tcp')
  const later = stops.filter((s) => !s.ended)
  const draining = later.filter((s) => fronted(s.task))
  store.write(() => {
    for (const {task, reason} of draining) {
      if (drainSinceOf(task) !== null) continue
      updateTask(store, task.id, {desired: 'stop', reason, reasonData: {drainSince: now}}, now)
      taskEvent(store, task, 'task.draining', `${reason}: its backend drains on the edges before it stops`)
    }
  })
  await forEachLimited(later.filter((s) => !fronted(s.task)), concurrency, stopOne)
  if (edges.length > 0) {
    // A one-shot pass waits here for its drains (each bounded by its timeout): no later pass may come to stop them.
    // The daemon's pass does not wait: its next pass looks again (level-triggered).
    let waiting = draining
    for (let round = 0; ; round++) {
      const services = edgeServices(jobs, store.read(() => listTasksForReconcile(store)), nodes)
      const synced = await syncEdges(edges, (n) => clientOf(n).transport, services, loaded.edgeImage ?? DEFAULT_EDGE_IMAGE, concurrency)
      if (round === 0) report.edges = synced.map((e) => ({node: e.node, ok: e.ok, error: e.error, events: e.events, commands: e.commands.length}))
      const at = ctx.clock.now()
      const still: typeof draining = []
      await forEachLimited(waiting, concurrency, async (stop) => {
        const since = drainSinceOf(stop.task) ?? now
        const views = viewsOf(synced, stop.task.jobName, stop.task.id)
        if (drainedEverywhere(views)) return stopOne(stop)
        if (drainTimedOut(since, at, drainTimeoutOf(jobsById.get(stop.task.jobId)?.spec ?? {}))) return stopOne({...stop, reason: `${stop.reason} (its drain timed out after ${Math.round((at - since) / 1000)}s)`})
        still.push(stop)
      })
      waiting = still
      if (waiting.length === 0 || options.drainWait === false) break
      await sleep(DRAIN_POLL_MS)
    }

    for (const stop of waiting) {
      const since = drainSinceOf(stop.task) ?? now
      report.actions.push(action('drain', stop.task.jobName, stop.task, stop.task.nodeName, `${stop.reason}: draining on the edges; it stops when its connections end, within ${Math.max(0, Math.ceil((since + drainTimeoutOf(jobsById.get(stop.task.jobId)?.spec ?? {}) - ctx.clock.now()) / 1000))}s`))
    }
  }

  // Orphans: removed once nothing has owned them for the grace period.
  const ripe = only ? leftovers : ripeOrphans(orphanCandidates, loaded.sightings, now, grace)
  store.write(() => {
    for (const [nodeId, obs] of observed) {
      if (!obs.ok || only) continue
      const names = orphanCandidates.filter((o) => o.nodeId === nodeId).map((o) => o.container.name)
      pruneOrphanSightings(store, nodeId, names)
      for (const name of names) recordOrphanSighting(store, nodeId, name, now)
    }
  })
  await forEachLimited(ripe, concurrency, async ({nodeId, container}) => {
    const node = nodesById.get(nodeId)!
    const error = await clientOf(node).remove(container.name).then(() => null, (e: Error) => e)
    if (!error) removedContainers.add(container.name)
    report.actions.push({kind: 'remove-orphan', job: container.labels[LABELS.job] ?? '?', instance: null, taskId: container.labels[LABELS.task] ?? null, node: node.name, detail: error ? `removing ${container.name} failed: ${error.message}` : `removed ${container.name} (${only ? 'its job is stopped' : `no task has owned it for ${grace / 1000}s`})`, ok: error === null})
    if (!error) store.write(() => appendEvent(store, {type: 'container.removed', subjectKind: 'node', subject: node.name, message: `removed orphan container ${container.name}`, data: {labels: container.labels}}))
  })

  // 9. Drains that are done: the node is empty; it stays cordoned.
  store.write(() => {
    for (const node of nodes) {
      if (node.adminState !== 'draining' || !isDrainDone(node, listTasks(store, {nodeId: node.id, live: true}).length)) continue
      updateNodeAdminState(store, node.id, 'cordoned', ctx.clock.now())
      appendEvent(store, {type: 'node.drained', subjectKind: 'node', subject: node.name, message: 'drained: no task left; it stays cordoned', data: {}})
    }
  })

  // 10. Networks no container or live task on a machine uses any more (docs/networks.md).
  await removeUnusedNetworks(ctx, {results, jobsById, removedContainers, nodesById, clientOf, report, concurrency})

  report.unchanged = isUnchanged(report)
  return report
}

/**
 * The cluster's networks that nothing on their machine uses any more are removed, from
 * the pass's observations and the live tasks as this pass left them. A removal podman
 * refuses (a container joined the network meanwhile) is reported and tried again next pass.
 */
async function removeUnusedNetworks(ctx: ServiceContext, input: {results: ReadonlyMap<string, NodeObserveResult>; jobsById: ReadonlyMap<string, Job>; removedContainers: ReadonlySet<string>; nodesById: ReadonlyMap<string, Node>; clientOf: (node: Node) => RuntimeClient; report: PassReport; concurrency: number}): Promise<void> {
  const groups = new Map<NodeObserveResult, string[]>()
  for (const [nodeId, result] of input.results) {
    if (!result.observation.networks?.length) continue
    const ids = groups.get(result)
    if (ids) ids.push(nodeId)
    else groups.set(result, [nodeId])
  }

  if (groups.size === 0) return
  const live = ctx.store.read(() => listTasksForReconcile(ctx.store))
  const removals = networkRemovals([...groups].map(([r, nodeIds]) => ({nodeIds, observation: r.observation})), live, input.jobsById, input.removedContainers)
  await forEachLimited(removals, input.concurrency, async ({nodeId, network}) => {
    const node = input.nodesById.get(nodeId)!
    const client = input.clientOf(node)
    const error = await client.removeNetwork(network).then(() => null, (e: Error) => e)
    input.report.actions.push({kind: 'remove-network', job: network, instance: null, taskId: null, node: node.name, detail: error ? `removing network ${network} failed: ${error.message}` : 'no container or task on the node uses it any more', ok: error === null})
    if (!error) ctx.store.write(() => appendEvent(ctx.store, {type: 'network.removed', subjectKind: 'node', subject: node.name, message: `removed network ${network}: nothing on the node uses it any more`, data: {network}}))
  })
}

/**
 * Each open deployment judged (rollout.ts judgeDeployment) and the result recorded: its
 * progress, its success, or its failure, which rolls the job back to the last stable
 * version (a new deployment, `rollback`) or pauses it for the operator.
 */
function judgeRollouts(ctx: ServiceContext, input: {jobs: readonly Job[]; tasks: readonly Task[]; deployments: ReadonlyMap<string, Deployment>; failures: ReadonlyMap<string, number>; now: number; report: PassReport; dryRun: boolean}): {rolledBack: Set<string>; paused: Map<string, Deployment>} {
  const {store} = ctx
  const {now, report} = input
  const changed = {rolledBack: new Set<string>(), paused: new Map<string, Deployment>()}
  const tasksOf = new Map<string, Task[]>()
  for (const t of input.tasks) {
    if (!input.deployments.has(t.jobId)) continue
    const list = tasksOf.get(t.jobId)
    if (list) list.push(t)
    else tasksOf.set(t.jobId, [t])
  }

  for (const job of input.jobs) {
    const dep = input.deployments.get(job.id)
    if (!dep || dep.specHash !== job.specHash) continue
    const judged = judgeDeployment(dep, job, tasksOf.get(job.id) ?? [], input.failures.get(dep.id) ?? 0, now)
    const say = (state: string, message: string): void => {
      report.rollouts = [...(report.rollouts ?? []), {job: job.name, version: dep.version, state, message}]
    }

    if (!judged.outcome) {
      if (judged.promote) {
        say('promoted', `its ${job.spec.upgrade.canary} canar${job.spec.upgrade.canary === 1 ? 'y was' : 'ies were'} available for ${(job.spec.upgrade.autoPromoteMs ?? 0) / 1000}s (autoPromote)`)
        if (!input.dryRun) {
          store.write(() => {
            updateDeployment(store, dep.id, {promoted: true, progressAt: now}, now)
            appendEvent(store, {type: 'deployment.promoted', subjectKind: 'job', subject: job.name, message: `version ${dep.version} promoted (autoPromote)`, data: {version: dep.version}})
          })
        }
      } else if (judged.available !== dep.available && !input.dryRun) store.write(() => updateDeployment(store, dep.id, {available: judged.available, progressAt: judged.progressAt}, now))
      continue
    }

    const {state, reason} = judged.outcome
    if (state === 'succeeded') {
      say('succeeded', reason)
      if (!input.dryRun) {
        store.write(() => {
          updateDeployment(store, dep.id, {state: 'succeeded', reason, available: judged.available, progressAt: judged.progressAt, endedAt: now}, now)
          const backTo = rollbackTarget(store, dep)
          if (backTo === null) appendEvent(store, {type: 'deployment.succeeded', subjectKind: 'job', subject: job.name, message: `version ${dep.version} rolled out: ${reason}`, data: {version: dep.version}})
          else appendEvent(store, {type: 'deployment.rolled-back', subjectKind: 'job', subject: job.name, message: `version ${dep.version} rolled out: back to version ${backTo}: ${reason}`, data: {version: dep.version, to: backTo}})
        })
      }

      continue
    }

    const stable = store.read(() => lastStable(store, job.id, dep.specHash))
    const next = afterFailure(job.spec.upgrade, stable?.version ?? null)
    say(next.action === 'rollback' ? 'failed' : 'paused', next.action === 'rollback' ? `${reason}; rolling back to version ${next.to}` : `${reason}; paused (${next.why})`)
    if (next.action === 'rollback') changed.rolledBack.add(job.id)
    else changed.paused.set(job.id, {...dep, state: 'paused'})
    if (input.dryRun) continue
    store.write(() => {
      if (next.action === 'pause') {
        updateDeployment(store, dep.id, {state: 'paused', reason: `failed: ${reason}; paused (${next.why})`, available: judged.available}, now)
        appendEvent(store, {type: 'deployment.failed', subjectKind: 'job', subject: job.name, message: `version ${dep.version} failed: ${reason}; paused (${next.why}): \`clusterctl rollout undo ${job.name}\` or \`rollout resume ${job.name}\``, data: {version: dep.version}})
        return
      }

      updateDeployment(store, dep.id, {state: 'failed', reason, rolledBackTo: next.to, available: judged.available, endedAt: now}, now)
      const back = {...job, spec: stable!.spec, specHash: stable!.specHash, generation: stable!.generation}
      updateJob(store, back, now)
      const rolled = startDeployment(store, back, 'rollback', {id: ctx.newId(), now})
      appendEvent(store, {type: 'deployment.failed', subjectKind: 'job', subject: job.name, message: `version ${dep.version} failed: ${reason}; rolling back to version ${next.to} (as version ${rolled.version})`, data: {version: dep.version, rollbackTo: next.to}})
      appendEvent(store, {type: 'deployment.started', subjectKind: 'job', subject: job.name, message: `version ${rolled.version} (rollback): back to version ${next.to}`, data: {version: rolled.version, cause: 'rollback', to: next.to}})
    })
  }

  return changed
}

/** The nodes that hold a live task of these tasks' jobs. */
/** The nodes that run one of these tasks, or are in `held` (nodes that held a task: ended containers may remain). */
function nodesHolding(nodes: readonly Node[], tasks: readonly Task[], held: ReadonlySet<string>): Node[] {
  const ids = new Set(tasks.filter((t) => t.nodeId !== null && isLive(t.state)).map((t) => t.nodeId))
  return nodes.filter((n) => ids.has(n.id) || held.has(n.id))
}

/** When a task's drain on the edges began (recorded with its desired=stop), or null. */
function drainSinceOf(task: Pick<Task, 'reasonData'>): number | null {
  const since = task.reasonData?.drainSince
  return typeof since === 'number' ? since : null
}

function taskEvent(store: Store, task: Pick<Task, 'id' | 'jobName' | 'instance'>, type: string, message: string, data: Record<string, unknown> = {}): void {
  appendEvent(store, {type, subjectKind: 'task', subject: task.id, message: `${task.jobName}.${task.instance}: ${message}`, data: {job: task.jobName, instance: task.instance, ...data}})
}

/**
 * The pass's decisions (pure): everything `runPass` decides between observing and
 * acting, over plain data. `diff` sorts tasks into buckets; these functions take the
 * buckets on to concrete work: which checks are due, which nodes take new work, which
 * new tasks to create (missing instances, drains, moves when the cluster is quiet), the
 * scheduler's requests and placements, the starts and stops, which make-before-break
 * stops happen in the same pass, which orphans are ripe, which drains are done.
 * No I/O, no clock reads: `now` and the id generator are arguments. See README.md.
 */
import {containerName, LABELS, runtimeFor, taskLabels} from '../../runtime/index.js'
import type {ContainerRuntime, ContainerSpec, ObservedContainer, VolumeMount} from '../../runtime/types.js'
import {BugError} from '../errors.js'
import {allocatableOf, machineOf, type Node, publicHostOf} from '../model/node.js'
import type {Constraint} from '../model/placement.js'
import {CONTAINERD_NETWORK_REASON, networkAliases, unusedNetworks} from '../model/network.js'
import {addResources, type Resources, subtractResources, ZERO_RESOURCES} from '../model/resources.js'
import type {HealthCheckSpec} from '../model/job.js'
import {type HostPortBinding, isLive, type Job, type Task} from '../model/task.js'
import {planConsolidation} from '../scheduler/consolidate.js'
import {type Team, teamAllocations} from '../model/team.js'
import {chooseVictims, DEFAULT_PREEMPTION_DELAY_MS, disruptionBudgets, priorityOf, type VictimChoice} from './preempt.js'
import type {TeamShare} from '../scheduler/order.js'
import {schedule} from '../scheduler/schedule.js'
import type {Plan, PortRange, SchedNode, Snapshot, TaskRequest} from '../scheduler/types.js'
import {blocksWork} from '../health/conditions.js'
import {avoidedNodes, type BackoffSettings, type Buckets, type DiffInput, type NodeObservation, supersededBecause} from './diff.js'
import {isAvailable, isCheckDue, isReadinessDue, isReady} from './health.js'
import {type MoveSettings, planMoves} from './moves.js'
import type {VolumePlacement} from './volumes.js'
import {hasLocalVolume, instanceVolumeName, localVolumePath, NFS_MOUNT_ROOT, type Volume} from '../model/volume.js'
import {type HealthProbe, probeArgv} from './observation.js'

export const DEFAULT_ORPHAN_GRACE_MS = 30_000
export const DEFAULT_FAILURE_WINDOW_MS = 10 * 60_000

/** The scheduler's seed for a pass: the one asked for, else derived from the pass's time (and reported, so it can be replayed). */
export function passSeed(seed: number | undefined, now: number): number {
  return seed ?? now % 2_147_483_647
}

/** Readiness probes are keyed `TASK_ID#ready` among a node's probe results. */
export const readinessKey = (taskId: string): string => `${taskId}#ready`

/** The health and readiness checks due this pass, per node. */
export function healthProbes(nodes: readonly Node[], tasks: readonly Task[], jobsById: ReadonlyMap<string, Job>, now: number): Map<string, HealthProbe[]> {
  const runtimes = new Map<string, ContainerRuntime>()
  const out = new Map<string, HealthProbe[]>()
  const nodesById = new Map(nodes.map((n) => [n.id, n]))
  const probe = (task: Task, node: Node, check: HealthCheckSpec, key: string): void => {
    const runtime = runtimes.get(node.runtime) ?? runtimeFor(node.runtime)
    runtimes.set(node.runtime, runtime)
    const port = check.port === null ? task.hostPorts[0] : task.hostPorts.find((h) => h.containerPort === check.port) ?? task.hostPorts[0]
    const argv = probeArgv(check, {host: publicHostOf(node), hostPort: port?.hostPort ?? null, containerName: task.containerName!, runtime, execId: `${key === task.id ? 'hc' : 'rc'}-${task.id.slice(0, 8)}-${now}`})
    if (!argv) return
    const list = out.get(node.id) ?? []
    list.push({taskId: key, argv, timeoutMs: check.timeoutMs})
    out.set(node.id, list)
  }

  for (const task of tasks) {
    const spec = jobsById.get(task.jobId)?.spec
    const node = task.nodeId ? nodesById.get(task.nodeId) : undefined
    if (!spec || !node || !task.containerName || task.desired === 'stop') continue
    if (spec.healthCheck && isCheckDue(task, spec.healthCheck, now)) probe(task, node, spec.healthCheck, task.id)
    if (spec.readinessCheck && isReadinessDue(task, spec.readinessCheck, now)) probe(task, node, spec.readinessCheck, readinessKey(task.id))
  }

  return out
}

/** The live tasks after the diff, and the ones of them that hold room on a node. */
export interface CarriedOver {
  /** Live tasks that neither ended nor stop this pass. */
  stillLive: Task[]
  /** Of those, the ones placed on a node that still serves them (not pending, not given up). */
  holding: Task[]
}

export function carryOver(tasks: readonly Task[], buckets: Pick<Buckets, 'stop' | 'ended' | 'unreachable'>): CarriedOver {
  const stopping = new Set(buckets.stop.map((s) => s.task.id))
  const endedIds = new Set(buckets.ended.map((e) => e.task.id))
  const stillLive = tasks.filter((t) => isLive(t.state) && !endedIds.has(t.id) && !stopping.has(t.id))
  const unreachableIds = new Set(buckets.unreachable.map((t) => t.id))
  const holding = stillLive.filter((t) => t.state !== 'pending' && !unreachableIds.has(t.id) && t.state !== 'unreachable')
  return {stillLive, holding}
}

/** A node that could not be observed this pass takes no new work in it. */
export function schedulableNodes(nodes: readonly Node[], observed: ReadonlyMap<string, NodeObservation>): Node[] {
  // A node with a condition that blocks work (a read-only store, an unhealthy runtime) gets none either way: its
  // condition says why, where "unreachable" would send the operator to the network.
  return nodes.map((n) => (observed.get(n.id)?.ok === false && n.state === 'ready' && !n.conditions.some(blocksWork) ? {...n, state: 'unreachable' as const} : n))
}

/** Moves wait for a quiet cluster: nothing to place, backing off or unreachable, every live task running and no move in flight. */
export function isQuiet(buckets: Pick<Buckets, 'place' | 'backoff' | 'unreachable'> & Partial<Pick<Buckets, 'roll'>>, stillLive: readonly Task[]): boolean {
  return buckets.place.length === 0 && (buckets.roll ?? []).length === 0 && buckets.backoff.length === 0 && buckets.unreachable.length === 0 && !stillLive.some((t) => t.state !== 'running' || (t.replaces !== null && stillLive.some((o) => o.id === t.replaces)))
}

/** A new pending task of one instance, with its deterministic container name. */
export function pendingTask(job: Job, instance: number, restarts: number, replaces: string | null, at: {id: string; cluster: string; now: number}): Task {
  const {id, cluster, now} = at
  return {
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
}

export interface NewTasksInput {
  buckets: Pick<Buckets, 'place' | 'backoff' | 'unreachable'> & Partial<Pick<Buckets, 'roll'>>
  carried: CarriedOver
  jobsById: ReadonlyMap<string, Job>
  /** Nodes after this pass's heartbeats. */
  nodes: readonly Node[]
  /** What the scheduler may use (schedulableNodes). */
  schedulable: readonly Node[]
  cluster: string
  now: number
  seed: number
  /** false: no moves. */
  moves?: MoveSettings | false
  newId: () => string
  /** Host ports held per node (ports.ts heldPorts). */
  held?: ReadonlyMap<string, readonly number[]>
}

export interface NewTasksPlan {
  /** In creation order, with why each exists. */
  created: Array<{task: Task; why: string}>
  /** Moves: the new task pinned to its target node. */
  pins: Map<string, Constraint>
  /** Each move planned: the task that moves, from where, to where, why. */
  moves: Array<{old: Task; to: string; why: string}>
}

/** Step 6: new tasks for missing instances and drains (`place`), and, when the cluster is quiet, moves to better nodes. */
export function planNewTasks(input: NewTasksInput): NewTasksPlan {
  const {buckets, carried, jobsById, cluster, now} = input
  const out: NewTasksPlan = {created: [], pins: new Map(), moves: []}
  const create = (job: Job, instance: number, restarts: number, why: string, replaces: string | null): Task => {
    const task = pendingTask(job, instance, restarts, replaces, {id: input.newId(), cluster, now})
    out.created.push({task, why})
    return task
  }

  for (const p of buckets.place) create(jobsById.get(p.jobId)!, p.instance, p.restarts, p.why, p.replaces ?? null)
  if (input.moves === false || !isQuiet(buckets, carried.stillLive)) return out
  const nodesById = new Map(input.nodes.map((n) => [n.id, n]))
  const candidates = carried.holding
    // A task with a local volume stays where its data is: it never moves.
    .filter((t) => jobsById.get(t.jobId)?.kind === 'service' && !hasLocalVolume(jobsById.get(t.jobId)!.spec.volumes) && isReady(t, jobsById.get(t.jobId)!.spec.healthCheck) && t.nodeId && nodesById.get(t.nodeId)?.state === 'ready')
    .map((t) => ({request: requestOf(t, jobsById.get(t.jobId)!), nodeId: t.nodeId!, hostPorts: t.hostPorts.map((h) => h.hostPort), label: `${t.jobName}.${t.instance}`, jobId: t.jobId}))
  const moves = planMoves(snapshotOf(input.schedulable, carried.holding, jobsById, input.held), candidates, {seed: input.seed, ...(input.moves ? {settings: input.moves} : {})})
  const consolidation = moves.length === 0 && input.moves?.consolidate === true ? consolidationMoves(input, candidates.filter((c) => jobsById.get(c.jobId)!.spec.volumes.length === 0), input.moves.maxPerPass) : []
  for (const m of [...moves, ...consolidation]) {
    const old = carried.holding.find((t) => t.id === m.taskId)!
    const fresh = create(jobsById.get(old.jobId)!, old.instance, old.restarts, `move from ${m.from.nodeName}: ${m.why}`, old.id)
    out.pins.set(fresh.id, {field: 'hostname', operator: 'IS', value: m.to.nodeName})
    out.moves.push({old, to: m.to.nodeName, why: m.why})
  }

  return out
}

/**
 * Consolidation moves for this pass: the first ones of the scheduler's ordered plan, at
 * most `max`, one per job, and none onto a node another move of this pass leaves (that
 * room is free only once the old task has stopped: a later pass plans it again).
 * Tasks of jobs with local volumes stay where their data is.
 */
function consolidationMoves(input: NewTasksInput, candidates: ReadonlyArray<{request: TaskRequest; nodeId: string; hostPorts: number[]; jobId: string}>, max: number): Array<{taskId: string; from: {nodeName: string}; to: {nodeName: string}; why: string}> {
  const plan = planConsolidation(snapshotOf(input.schedulable, input.carried.holding, input.jobsById, input.held), candidates, {seed: input.seed})
  const out: Array<{taskId: string; from: {nodeName: string}; to: {nodeName: string}; why: string}> = []
  const leaving = new Set<string>()
  const jobs = new Set<string>()
  for (const m of plan.moves) {
    if (out.length >= max || jobs.has(m.jobId) || leaving.has(m.to.nodeId)) break
    out.push({taskId: m.taskId, from: m.from, to: m.to, why: `consolidation: frees ${m.frees.nodeName} (${plan.freed.length} node${plan.freed.length === 1 ? '' : 's'} in ${plan.moves.length} move${plan.moves.length === 1 ? '' : 's'})`})
    leaving.add(m.from.nodeId)
    jobs.add(m.jobId)
  }
  return out
}

export interface PlacementInput {
  /** Pending tasks: the carried-over ones first, then the ones created this pass. */
  pending: readonly Task[]
  pins: ReadonlyMap<string, Constraint>
  schedulable: readonly Node[]
  holding: readonly Task[]
  jobsById: ReadonlyMap<string, Job>
  recentFailures: DiffInput['recentFailures']
  /** Host ports held per node (ports.ts heldPorts). */
  held?: ReadonlyMap<string, readonly number[]>
  backoff?: BackoffSettings
  seed: number
  portRange?: PortRange
  /** Teams with a weight or a quota (others have weight 1, no quota). */
  teams?: readonly Team[]
  /** Tasks pinned to, or blocked by, the node of their local volumes (volumes.ts). */
  volumes?: VolumePlacement
}

export interface Placed {
  task: Task
  node: string
  hostPorts: HostPortBinding[]
}

/** Step 7: the scheduler's plan for every pending task (a move pinned to its target, every task kept off the nodes where its instance kept failing). */
export function planPlacements(input: PlacementInput): {plan: Plan; placed: Placed[]; pendingById: Map<string, Task>} {
  const {pending, jobsById} = input
  const pendingById = new Map(pending.map((t) => [t.id, t]))
  const vols = input.volumes
  // A task whose local volume is on a node that is not ready waits for it (volumes.ts): it is never offered elsewhere.
  const offered = vols ? pending.filter((t) => !vols.blocked.has(t.id)) : pending
  const requests = offered.map((t) => {
    const pins = [input.pins.get(t.id), vols?.pins.get(t.id)].filter((c) => c !== undefined)
    const avoided = [...avoidedNodes(input.recentFailures, t.jobId, t.instance, input.backoff), ...(vols?.avoid?.get(t.id) ?? [])]
    const request = requestOf(t, jobsById.get(t.jobId)!, [...pins, ...avoidConstraint([...new Set(avoided)])])
    const extra = vols?.extraDisk.get(t.id) ?? 0
    return extra > 0 ? {...request, resources: {...request.resources, diskBytes: request.resources.diskBytes + extra}} : request
  })
  // A task on its way out (old spec, moved, drained) leaves its share to its replacement: a team at its quota can still roll out.
  const teams = teamSharesOf(input.teams ?? [], constrainingTasks(input.holding, jobsById, [...input.holding, ...pending]), jobsById)
  const scheduled = offered.length === 0 ? {placements: [], pending: []} : schedule(snapshotOf(input.schedulable, input.holding, jobsById, input.held, [...input.holding, ...pending]), requests, {seed: input.seed, teams, ...(input.portRange ? {portRange: input.portRange} : {})})
  const blocked = pending.filter((t) => vols?.blocked.has(t.id)).map((t) => ({taskId: t.id, jobId: t.jobId, reason: vols!.blocked.get(t.id)!, counts: {}, details: []}))
  // A task kept off some nodes by its NFS export says so when it stays pending (nfs-probe.ts).
  const noted = vols?.notes?.size ? scheduled.pending.map((p) => (vols.notes!.has(p.taskId) ? {...p, reason: `${p.reason}; ${vols.notes!.get(p.taskId)!}`} : p)) : scheduled.pending
  const plan: Plan = blocked.length === 0 && noted === scheduled.pending ? scheduled : {placements: scheduled.placements, pending: [...noted, ...blocked]}
  return {plan, placed: placementsOf(plan, pendingById, jobsById), pendingById}
}

/** Each team's weight, quota and what its placed tasks hold: the scheduler's DRF order and quota check (scheduler/order.ts). */
export function teamSharesOf(teams: readonly Team[], holding: readonly Task[], jobsById: ReadonlyMap<string, Job>): TeamShare[] {
  const allocations = teamAllocations(holding, jobsById)
  const defined = new Map(teams.map((t) => [t.name, t]))
  return [...new Set([...defined.keys(), ...allocations.keys()])].map((name) => {
    const t = defined.get(name)
    const a = allocations.get(name)
    return {name, weight: t?.weight ?? 1, ...(t && Object.keys(t.quota).length > 0 ? {quota: t.quota} : {}), allocated: a?.allocated ?? ZERO_RESOURCES, running: a?.running ?? 0}
  })
}

export interface PreemptionInput {
  plan: Plan
  placed: readonly Placed[]
  pendingById: ReadonlyMap<string, Task>
  schedulable: readonly Node[]
  holding: readonly Task[]
  jobsById: ReadonlyMap<string, Job>
  held?: ReadonlyMap<string, readonly number[]>
  seed: number
  portRange?: PortRange
  now: number
  /** How long a task must have been pending before it may preempt (default 3 min). */
  delayMs?: number
}

export interface Preemption {
  preemptor: Task
  nodeId: string
  hostPorts: HostPortBinding[]
  victims: Task[]
  /** Jobs whose disruption budget this preemption breaks (the preemptor's `preemption: force`). */
  beyondBudget: string[]
}

/**
 * Step 7b: preemptions (preempt.ts). Each task pending for the delay, highest priority
 * first, may stop lower-priority running tasks on one node; the scheduler confirms it then
 * fits there (constraints, ports). Victims are running tasks only, never a preemptor of
 * this pass, and each service's disruption budget holds.
 */
export function planPreemptions(input: PreemptionInput): Preemption[] {
  const {jobsById, now} = input
  const delay = input.delayMs ?? DEFAULT_PREEMPTION_DELAY_MS
  const candidates = input.plan.pending
    .filter((p) => !p.details.some((d) => d.reason === 'team-over-quota'))
    .map((p) => input.pendingById.get(p.taskId)!)
    .filter((t) => jobsById.get(t.jobId)?.spec.preemption !== 'never' && !hasLocalVolume(jobsById.get(t.jobId)!.spec.volumes) && now - t.createdAt >= delay)
    .sort((a, b) => priorityOf(jobsById.get(b.jobId)!) - priorityOf(jobsById.get(a.jobId)!) || a.createdAt - b.createdAt)
  if (candidates.length === 0) return []
  let occupying: Task[] = [...input.holding, ...input.placed.map((p) => ({...p.task, nodeId: p.node, hostPorts: p.hostPorts}))]
  let running = input.holding.filter((t) => t.state === 'running' && t.desired === 'run' && t.nodeId !== null && jobsById.has(t.jobId))
  const budgets = disruptionBudgets(jobsById.values(), input.holding)
  const byId = new Map(input.holding.map((t) => [t.id, t]))
  const out: Preemption[] = []
  for (const task of candidates) {
    const job = jobsById.get(task.jobId)!
    const snapshot = snapshotOf(input.schedulable, occupying, jobsById, input.held)
    const nodes = snapshot.nodes.filter((n) => n.state === 'ready').map((n) => ({id: n.id, name: n.name, free: subtractResources(n.allocatable, n.allocated)}))
    const victimsOf = running.map((t) => ({taskId: t.id, jobId: t.jobId, nodeId: t.nodeId!, priority: priorityOf(jobsById.get(t.jobId)!), resources: jobsById.get(t.jobId)!.spec.resources}))
    let placement: Plan['placements'][number] | undefined
    const fits = (c: VictimChoice): boolean => {
      const gone = new Set(c.victims.map((v) => v.taskId))
      const node = snapshot.nodes.find((n) => n.id === c.nodeId)!
      const trial = schedule(snapshotOf(input.schedulable, occupying.filter((t) => !gone.has(t.id)), jobsById, input.held), [requestOf(task, job, [{field: 'hostname', operator: 'IS', value: node.name}])], {seed: input.seed, ...(input.portRange ? {portRange: input.portRange} : {})})
      placement = trial.placements[0]
      return placement !== undefined
    }
    // Within the budgets first; `preemption: force` breaks them only when that finds no room.
    const choice = chooseVictims(job.spec.resources, priorityOf(job), nodes, victimsOf, budgets, fits) ?? (job.spec.preemption === 'force' ? chooseVictims(job.spec.resources, priorityOf(job), nodes, victimsOf, new Map(), fits) : null)
    if (!choice || !placement) continue
    const gone = new Set(choice.victims.map((v) => v.taskId))
    const hostPorts = job.spec.ports.map((port, i) => ({containerPort: port.containerPort, hostPort: placement!.hostPorts[i]!, protocol: port.protocol}))
    const taking = new Map<string, number>()
    for (const v of choice.victims) taking.set(v.jobId, (taking.get(v.jobId) ?? 0) + 1)
    const beyondBudget = [...taking].filter(([jobId, n]) => budgets.has(jobId) && n > budgets.get(jobId)!).map(([jobId]) => jobsById.get(jobId)!.name)
    out.push({preemptor: task, nodeId: choice.nodeId, hostPorts, victims: choice.victims.map((v) => byId.get(v.taskId)!), beyondBudget})
    for (const [jobId, n] of taking) {
      const b = budgets.get(jobId)
      if (b !== undefined) budgets.set(jobId, Math.max(0, b - n))
    }

    occupying = [...occupying.filter((t) => !gone.has(t.id)), {...task, nodeId: choice.nodeId, hostPorts}]
    running = running.filter((t) => !gone.has(t.id))
  }

  return out
}

export interface Start {
  task: Task
  nodeId: string
  hostPorts: HostPortBinding[]
}

/** Starts: tasks whose start was lost or whose container is only created, then this pass's placements. */
export function startsOf(start: Buckets['start'], placed: readonly Placed[], nodesById: ReadonlyMap<string, Node>): Start[] {
  return [
    ...start.filter((t) => t.nodeId).map((t) => ({task: t, nodeId: t.nodeId!, hostPorts: t.hostPorts})),
    ...placed.map((p) => ({task: {...p.task, nodeId: p.node, nodeName: nodesById.get(p.node)?.name ?? null}, nodeId: p.node, hostPorts: p.hostPorts})),
  ]
}

export interface Stop {
  task: Task
  reason: string
  /** Its end is recorded already (an exited or unhealthy container): only the container goes. */
  ended?: true
}

/** Stops: the diff's, then the containers of ended tasks that must go (unhealthy). */
export function stopsOf(buckets: Pick<Buckets, 'stop' | 'ended'>): Stop[] {
  return [...buckets.stop, ...buckets.ended.filter((e) => e.stopContainer).map((e) => ({task: e.task, reason: e.reason, ended: true as const}))]
}

/**
 * Make-before-break in the same pass: a task that now runs (and has no health check
 * to pass first) lets the task it supersedes stop at once: a move's origin, or an
 * old-spec task when the job's minHealthyTime is 0 (else the rollout waits for it:
 * isAvailable). The rule is diff's `supersededBecause`.
 */
export function sameInstanceStops(startedOk: readonly Task[], holding: readonly Task[], alreadyStopping: ReadonlySet<string>, jobsById: ReadonlyMap<string, Job>, nodesById: ReadonlyMap<string, Node>, now: number, canaryJobs: ReadonlySet<string> = new Set()): Stop[] {
  const stopping = new Set(alreadyStopping)
  const out: Stop[] = []
  for (const fresh of startedOk) {
    const job = jobsById.get(fresh.jobId)
    const check = job?.spec.healthCheck ?? null
    if (!isReady(fresh, check)) continue
    for (const old of holding) {
      if (old.jobId !== fresh.jobId || old.instance !== fresh.instance || stopping.has(old.id) || old.id === fresh.id) continue
      const reason = supersededBecause(old, fresh, nodesById.get(fresh.nodeId ?? '')?.name ?? null)
      // an old-spec task waits for its replacement's minHealthyTime, and stays beside a canary until the promote
      const gated = old.id !== fresh.replaces && (!(job && isAvailable(fresh, job.spec, now)) || canaryJobs.has(fresh.jobId))
      if (old.state === 'running' && reason && !gated) {
        out.push({task: old, reason})
        stopping.add(old.id)
      }
    }
  }

  return out
}

/** A stop on a node that did not answer this pass waits for it (desired=stop is kept): a task that was never placed needs no node. */
export function stopWaitsForNode(task: Pick<Task, 'state'>, node: Pick<Node, 'id'> | undefined, observed: ReadonlyMap<string, NodeObservation>): boolean {
  return node !== undefined && task.state !== 'pending' && observed.get(node.id)?.ok !== true
}

/**
 * In a pass scoped to stopped jobs (stop, rm): their containers that no live task owns
 * (ended runs and instances, whose containers a full pass would remove after the orphan
 * grace). They go now: a stopped job keeps nothing on its nodes, and a removed job's
 * containers must not wait for a later full pass that may never come.
 */
export function leftoversOfStoppedJobs(orphans: Buckets['orphans'], stoppedJobNames: ReadonlySet<string>): Buckets['orphans'] {
  return orphans.filter((o) => stoppedJobNames.has(o.container.labels[LABELS.job] ?? ''))
}

/** Orphans removed this pass: the ones first seen orphaned `grace` ms ago or more (`sightings` by `nodeId/container`). */
export function ripeOrphans(orphans: Buckets['orphans'], sightings: ReadonlyMap<string, number>, now: number, grace: number): Array<{nodeId: string; container: ObservedContainer}> {
  return orphans.filter((o) => {
    const first = sightings.get(`${o.nodeId}/${o.container.name}`)
    return first !== undefined && now - first >= grace
  })
}

/** A drain is done when its node holds no live task: the node then stays cordoned. */
export function isDrainDone(node: Pick<Node, 'adminState'>, liveTasksOnNode: number): boolean {
  return node.adminState === 'draining' && liveTasksOnNode === 0
}

/** Keeps a task off the named nodes (where its instance kept failing). */
export function avoidConstraint(names: readonly string[]): Constraint[] {
  return names.length === 0 ? [] : [{field: 'hostname', operator: 'UNLIKE', value: names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')}]
}

/**
 * The scheduler's view: allocatable, what placed tasks hold, the host ports taken (those
 * of the placed tasks, plus `held`: see ports.ts), the machine each node runs on (nodes
 * on one machine share its ports); `runtime` as a label for runtime-pinned jobs.
 */
export function snapshotOf(nodes: readonly Node[], placedTasks: readonly Task[], jobsById: ReadonlyMap<string, Job>, held?: ReadonlyMap<string, readonly number[]>, replacing: readonly Task[] = placedTasks): Snapshot {
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
    usedPorts: [...(ports.get(n.id) ?? []), ...(held?.get(n.id) ?? [])],
    host: machineOf(n),
    ...blockedByOf(n),
  }))
  return {nodes: schedNodes, placed: constrainingTasks(placedTasks, jobsById, replacing).map((t) => ({taskId: t.id, jobId: t.jobId, nodeId: t.nodeId!}))}
}

/** The first condition that keeps new work off the node (docs/health.md), for the scheduler. */
function blockedByOf(n: Node): {blockedBy?: string} {
  const c = n.conditions.find(blocksWork)
  return c ? {blockedBy: c.type} : {}
}

/**
 * The placed tasks that count toward their job's constraints: not those on their way out
 * (an old spec's, after a change or a restart; the origin of a move or a drain, whose
 * replacement is in `replacing`). They keep their resources and ports until they stop,
 * but their replacements may take their place: otherwise a restart of a hostname:UNIQUE
 * job on as many nodes as instances finds every node taken and stays pending for good,
 * and GROUP_BY counts each value twice.
 */
export function constrainingTasks(placedTasks: readonly Task[], jobsById: ReadonlyMap<string, Job>, replacing: readonly Task[] = placedTasks): Task[] {
  const replaced = new Set(replacing.map((t) => t.replaces).filter((id) => id !== null))
  return placedTasks.filter((t) => t.nodeId && !replaced.has(t.id) && (jobsById.get(t.jobId)?.specHash ?? t.specHash) === t.specHash)
}

export function requestOf(task: Task, job: Job, extra: readonly Constraint[] = []): TaskRequest {
  const constraints: Constraint[] = [...job.spec.constraints, ...extra]
  if (job.spec.runtime) constraints.push({field: 'runtime', operator: 'IS', value: job.spec.runtime})
  // containerd runs host networking: a job on a network goes to podman nodes, and says why when there are none
  else if (job.spec.network) constraints.push({field: 'runtime', operator: 'IS', value: 'podman', because: CONTAINERD_NETWORK_REASON})
  return {
    taskId: task.id,
    jobId: job.id,
    instance: task.instance,
    resources: job.spec.resources,
    ports: job.spec.ports.length,
    constraints,
    preferences: job.spec.preferences,
    ...(job.spec.strategy ? {strategy: job.spec.strategy} : {}),
    ...(job.spec.team ? {team: job.spec.team} : {}),
    ...(job.spec.priority ? {priority: job.spec.priority} : {}),
  }
}

function placementsOf(plan: Plan, pendingById: ReadonlyMap<string, Task>, jobsById: ReadonlyMap<string, Job>): Placed[] {
  return plan.placements.map((p) => {
    const task = pendingById.get(p.taskId)!
    const job = jobsById.get(task.jobId)!
    const hostPorts = job.spec.ports.map((port, i) => ({containerPort: port.containerPort, hostPort: p.hostPorts[i]!, protocol: port.protocol}))
    return {task, node: p.nodeId, hostPorts}
  })
}

/**
 * The mounts of a task's container: host paths as they are, a local volume's directory
 * on its node (made by the start), an NFS export (volumes.ts in runtime/spec.ts).
 * A local volume with no record is a bug: the placement records it before any start.
 */
export function volumeMountsOf(task: Pick<Task, 'instance'>, job: Pick<Job, 'spec'>, volumes: ReadonlyMap<string, Volume>): VolumeMount[] {
  return job.spec.volumes.map((v) => {
    if (v.nfs) return {source: `${NFS_MOUNT_ROOT}/${v.source}`, target: v.target, readOnly: v.readOnly, nfs: {name: v.source, ...v.nfs}}
    if (!v.local) return {source: v.source, target: v.target, readOnly: v.readOnly}
    const name = instanceVolumeName(v.source, task.instance)
    const volume = volumes.get(name)
    if (!volume) throw new BugError(`the local volume ${name} has no record`)
    return {source: localVolumePath(volume), target: v.target, readOnly: v.readOnly, create: true}
  })
}

/**
 * What the runtime is asked to run for a task. `services`: the addresses of the services
 * the job uses (edge/injected.ts); the job's own env wins over them (explicit beats implied).
 */
export function containerSpecOf(task: Task, job: Job, cluster: string, hostPorts: HostPortBinding[], services: Readonly<Record<string, string>> = {}, volumes: ReadonlyMap<string, Volume> = new Map()): ContainerSpec {
  return {
    name: task.containerName!,
    image: job.spec.image,
    ...(job.spec.command ? {command: job.spec.command} : {}),
    env: {...services, ...job.spec.env, CLUSTERCTL_JOB: job.name, CLUSTERCTL_INSTANCE: String(task.instance), CLUSTERCTL_TASK: task.id},
    cpuMilli: job.spec.resources.cpuMilli,
    memBytes: job.spec.resources.memBytes,
    ports: hostPorts.map((h) => ({containerPort: h.containerPort, hostPort: h.hostPort, protocol: h.protocol})),
    volumes: volumeMountsOf(task, job, volumes),
    ...(job.spec.init === false ? {init: false} : {}),
    ...(job.spec.network ? {network: {name: job.spec.network, aliases: networkAliases(job.name, task.instance)}} : {}),
    labels: {...job.spec.labels, ...taskLabels({clusterId: cluster, jobName: job.name, instance: task.instance, taskId: task.id, specHash: job.specHash})},
  }
}

/**
 * Start order (spec `dependsOn`, Marathon's app dependencies): an active job with no live
 * task waits while a job it depends on is missing or has fewer of its instances ready
 * (running, passing its health and readiness checks) than it wants. Once a job runs, its
 * restarts do not wait (a dependency's outage must not take its dependents down too).
 * Returns why, per waiting job id.
 */
export function dependencyWaits(jobs: readonly Job[], tasks: readonly Task[], now: number): Map<string, string> {
  const out = new Map<string, string>()
  if (!jobs.some((j) => j.spec.dependsOn?.length)) return out
  const byName = new Map(jobs.map((j) => [j.name, j]))
  const liveJobs = new Set(tasks.filter((t) => isLive(t.state) && t.desired === 'run').map((t) => t.jobId))
  for (const job of jobs) {
    if (!job.spec.dependsOn?.length || job.state !== 'active' || liveJobs.has(job.id)) continue
    const waits: string[] = []
    for (const name of job.spec.dependsOn) {
      const dep = byName.get(name)
      if (!dep) {
        waits.push(`${name} does not exist`)
        continue
      }

      const spec = {...dep.spec, upgrade: {...dep.spec.upgrade, minHealthyTimeMs: 0}}
      const ready = new Set(tasks.filter((t) => t.jobId === dep.id && t.instance < dep.instances && isLive(t.state) && t.desired === 'run' && isAvailable(t, spec, now)).map((t) => t.instance)).size
      if (ready < dep.instances || dep.state !== 'active') waits.push(`${name} ${ready}/${dep.instances} ready`)
    }

    if (waits.length > 0) out.set(job.id, `waiting for its dependencies: ${waits.join(', ')}`)
  }

  return out
}

/**
 * The cluster's networks to remove from the nodes this pass (docs/networks.md), per machine
 * (the node names that share one observation, `groups`): those its observation listed that
 * neither a container seen there (less those this pass removed) nor a live task placed
 * there (whose start may be about to create it) uses.
 */
export function networkRemovals(groups: ReadonlyArray<{nodeIds: readonly string[]; observation: NodeObservation}>, liveTasks: readonly Task[], jobsById: ReadonlyMap<string, Job>, removedContainers: ReadonlySet<string>): Array<{nodeId: string; network: string}> {
  const out: Array<{nodeId: string; network: string}> = []
  for (const {nodeIds, observation} of groups) {
    if (!observation.ok || !observation.complete || !observation.networks?.length || nodeIds.length === 0) continue
    const on = new Set(nodeIds)
    const inUse = [
      ...observation.containers.filter((c) => !removedContainers.has(c.name)).flatMap((c) => c.networks ?? []),
      ...liveTasks.filter((t) => t.nodeId !== null && on.has(t.nodeId) && isLive(t.state)).map((t) => jobsById.get(t.jobId)?.spec.network),
    ]
    for (const network of unusedNetworks(observation.networks, inUse)) out.push({nodeId: nodeIds[0]!, network})
  }

  return out
}

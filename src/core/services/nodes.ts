/**
 * Node registration and inspection. Commands call these; they never touch SQL
 * or SSH themselves (DESIGN principle 1).
 */
import {FailedError, NotFoundError, RemoteError, stderrTail, UserError} from '../errors.js'
import {parseInventory} from '../inventory/parse.js'
import {inventoryProbeArgv} from '../inventory/probe.js'
import type {Inventory} from '../model/inventory.js'
import {
  type AdminState,
  allocatableOf,
  detectedResources,
  effectiveCapacity,
  isValidLabelKey,
  isValidNodeName,
  type Node,
  type RuntimeName,
} from '../model/node.js'
import type {Task} from '../model/task.js'
import {fitsWithin, formatBytes, formatCpu, type Resources, ZERO_RESOURCES} from '../model/resources.js'
import {defaultNodeName, parseTarget, type Target} from '../model/target.js'
import {converge, type ConvergeOptions} from '../reconcile/controller.js'
import {appendEvent} from '../state/events.js'
import {listTasks, pendingReplacementsOn, updateTask} from '../state/jobs.js'
import {deleteNode, findNode, insertNode, listNodes, updateNodeAdminState, updateNodeEdge, updateNodeInventory} from '../state/nodes.js'
import type {Transport} from '../transport.js'
import {forEachLimited} from '../async.js'
import {type ConnectSpec, connectSpecOf, type ServiceContext} from '../context.js'

export const PROBE_TIMEOUT_MS = 60_000

export interface AddNodeRequest {
  target: string
  name?: string
  keyPath?: string
  labels?: Record<string, string>
  runtime?: 'auto' | RuntimeName
  sudo?: boolean
  reserve?: Partial<Resources>
  resources?: Partial<Resources>
  /** Require this host key fingerprint (SHA256:...). */
  hostKey?: string
  /** Make it an edge node (docs/endpoints.md). */
  edge?: boolean
}

export interface AddNodeResult {
  node: Node
  /** True when the host key was not known before and is now pinned. */
  pinnedNewHostKey: boolean
}

interface ValidRequest {
  target: Target
  name: string
  request: AddNodeRequest
}

/** Checks everything that can be checked without touching the network. */
export function validateAddNode(request: AddNodeRequest): ValidRequest {
  const target = parseTarget(request.target)
  const name = request.name ?? defaultNodeName(target)
  if (!isValidNodeName(name)) {
    throw new UserError(`Node name ${JSON.stringify(name)} is not valid: use letters, digits, '.', '_' and '-' (at most 63), starting and ending with a letter or digit.`)
  }

  for (const key of Object.keys(request.labels ?? {})) {
    if (!isValidLabelKey(key)) throw new UserError(`Label key ${JSON.stringify(key)} is not valid: use letters, digits, '.', '_', '/' and '-' ('hostname' is reserved).`)
  }

  if (request.hostKey !== undefined && !/^SHA256:[A-Za-z0-9+/]{43}$/.test(request.hostKey)) {
    throw new UserError(`--host-key must be an OpenSSH SHA256 fingerprint like SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s (from \`ssh-keygen -lf KEY.pub\`), got ${JSON.stringify(request.hostKey)}.`)
  }

  if (target.host === 'local' && (request.hostKey || request.keyPath)) {
    throw new UserError('--key and --host-key do not apply to the local node: it is reached through local processes, not SSH.')
  }

  return {target, name, request}
}

export async function addNode(request: AddNodeRequest, ctx: ServiceContext): Promise<AddNodeResult> {
  const valid = validateAddNode(request)
  const {target, name} = valid
  if (findNode(ctx.store, name)) {
    throw new FailedError(`Node ${name} already exists.`, {code: 'exists', hint: `Pick another --name, or run \`clusterctl node rm ${name}\` first.`})
  }

  const spec: ConnectSpec = {
    nodeName: name,
    host: target.host,
    port: target.port,
    user: target.user,
    keyPath: request.keyPath ?? null,
    sudo: request.sudo ?? false,
    expectedHostKey: request.hostKey ?? null,
    hostKeyFromUser: request.hostKey !== undefined,
  }
  const transport = ctx.connect(spec)
  const {inventory} = await probe(transport, name, ctx)
  const runtime = chooseRuntime(name, inventory, request.runtime ?? 'auto')
  const declared = request.resources ?? {}
  const capacity = effectiveCapacity(detectedResources(inventory), declared)
  const reserved = {...ZERO_RESOURCES, ...request.reserve}
  if (!fitsWithin(reserved, capacity)) {
    throw new UserError(
      `--reserve (${describe(reserved)}) is more than node ${name} has (${describe(capacity)}); reserve less, or declare the capacity with --resources.`,
    )
  }

  const hostKey = transport.hostKey() ?? null
  const now = ctx.clock.now()
  const node: Node = {
    id: ctx.newId(),
    name,
    address: {host: target.host, port: target.port, user: target.user},
    resolvedAddress: transport.target,
    keyPath: request.keyPath ?? null,
    sudo: request.sudo ?? false,
    runtime,
    hostKey,
    state: 'ready',
    adminState: 'ready',
    missedHeartbeats: 0,
    heartbeatError: null,
    stateSince: now,
    usage: null,
    heartbeatLatencies: [],
    labels: {...request.labels},
    declared,
    capacity,
    reserved,
    inventory,
    inventoriedAt: now,
    createdAt: now,
    lastSeenAt: now,
    conditions: [],
    healthProbedAt: null,
    edge: request.edge === true,
  }

  ctx.store.write(() => {
    // Checked again inside the transaction: another add may have taken the name meanwhile.
    if (findNode(ctx.store, name)) throw new FailedError(`Node ${name} already exists.`, {code: 'exists', hint: `Pick another --name, or run \`clusterctl node rm ${name}\` first.`})
    insertNode(ctx.store, node)
    appendEvent(ctx.store, {
      type: 'node.added',
      subjectKind: 'node',
      subject: name,
      message: `added ${transport.target} (${runtime}, ${describe(allocatableOf(node))} allocatable${node.edge ? ', edge' : ''})${hostKey ? `, host key ${hostKey.fingerprint} pinned` : ''}`,
      data: {address: transport.target, runtime, hostKey: hostKey?.fingerprint ?? null, edge: node.edge === true},
    })
  })
  return {node, pinnedNewHostKey: hostKey !== null}
}

export interface AddNodesProgress {
  done: number
  total: number
  target: string
  ok: boolean
  message: string
}

export interface AddNodesOutcome {
  added: AddNodeResult[]
  failed: Array<{target: string; name: string | null; error: Error}>
}

/**
 * Adds several nodes in parallel (at most `concurrency` connecting at once).
 * Every request is validated before any connection is made: one bad flag or
 * duplicate name fails the whole call and nothing is added.
 */
export async function addNodes(
  requests: AddNodeRequest[],
  ctx: ServiceContext,
  options: {concurrency?: number; onProgress?: (p: AddNodesProgress) => void} = {},
): Promise<AddNodesOutcome> {
  const valid = requests.map((r) => validateAddNode(r))
  const seen = new Map<string, string>()
  for (const v of valid) {
    const other = seen.get(v.name)
    if (other !== undefined) throw new UserError(`${other} and ${v.request.target} would both be named ${v.name}: give one of them another name.`)
    seen.set(v.name, v.request.target)
  }

  const outcome: AddNodesOutcome = {added: [], failed: []}
  let done = 0
  await forEachLimited(valid, options.concurrency ?? 32, async (v) => {
    try {
      const result = await addNode(v.request, ctx)
      outcome.added.push(result)
      options.onProgress?.({done: ++done, total: valid.length, target: v.request.target, ok: true, message: `added as ${result.node.name}`})
    } catch (error) {
      outcome.failed.push({target: v.request.target, name: v.name, error: error as Error})
      options.onProgress?.({done: ++done, total: valid.length, target: v.request.target, ok: false, message: (error as Error).message})
    }
  })
  const order = new Map(valid.map((v, i) => [v.request.target, i]))
  outcome.added.sort((a, b) => a.node.name.localeCompare(b.node.name))
  outcome.failed.sort((a, b) => (order.get(a.target) ?? 0) - (order.get(b.target) ?? 0))
  return outcome
}

export function getNodes(ctx: Pick<ServiceContext, 'store'>): Node[] {
  return listNodes(ctx.store)
}

export function getNode(ctx: Pick<ServiceContext, 'store'>, name: string): Node {
  const node = findNode(ctx.store, name)
  if (!node) throw new NotFoundError(`No node named ${name}.`, {hint: 'Run `clusterctl nodes` to list the nodes.'})
  return node
}

export interface InventoryResult {
  node: Node
  /** False when the node could not be reached and the inventory shown is the stored one. */
  fresh: boolean
  error: Error | null
}

/** Probes nodes again, stores their new inventories and capacities (declared resources still win). */
export async function refreshInventory(ctx: ServiceContext, names: string[] | 'all'): Promise<InventoryResult[]> {
  const nodes = names === 'all' ? listNodes(ctx.store) : names.map((n) => getNode(ctx, n))
  return Promise.all(
    nodes.map(async (node): Promise<InventoryResult> => {
      try {
        const {inventory, at} = await probe(ctx.connect(connectSpecOf(node)), node.name, ctx)
        const capacity = effectiveCapacity(detectedResources(inventory), node.declared)
        ctx.store.write(() => updateNodeInventory(ctx.store, node.id, inventory, capacity, at))
        return {node: {...node, inventory, capacity, inventoriedAt: at, lastSeenAt: at}, fresh: true, error: null}
      } catch (error) {
        return {node, fresh: false, error: error as Error}
      }
    }),
  )
}

/**
 * Cordon: the node takes no new work; what runs there keeps running. Uncordon: it
 * takes work again (also ending a drain). Both change what the operator asked
 * (`adminState`); a node failing its heartbeats stays suspect, down or unreachable
 * until it answers, and then takes the state asked for. Idempotent.
 */
/** What cordon, uncordon, drain and drain --cancel did: `cancelled`, the pending drain replacements given up. */
export interface AdminChange {
  node: Node
  changed: boolean
  cancelled: Task[]
}

export function setSchedulable(ctx: Pick<ServiceContext, 'store'>, name: string, schedulable: boolean): AdminChange {
  return setAdminState(ctx, name, schedulable ? 'ready' : 'cordoned')
}

/**
 * Drain: cordon the node, then the reconcile pass moves each of its tasks to
 * another node, make-before-break (the replacement runs, and is healthy when the
 * job has a health check, before the old task stops). When the node is empty it
 * stays cordoned. Returns at once; `drainProgress` tells how far it got.
 */
export function startDrain(ctx: Pick<ServiceContext, 'store'>, name: string): AdminChange {
  return setAdminState(ctx, name, 'draining')
}

/**
 * Gives up a drain: the node stays cordoned (no new work; what still runs there stays),
 * and the replacements not yet placed are cancelled, so nothing waits pending for
 * room that may never come, or moves later. Idempotent.
 */
export function cancelDrain(ctx: Pick<ServiceContext, 'store'>, name: string): AdminChange {
  return ctx.store.write(() => setAdminState(ctx, name, getNode(ctx, name).adminState === 'draining' ? 'cordoned' : getNode(ctx, name).adminState))
}

/** A task still on a draining node, and its replacement elsewhere when there is one (pending: with why). */
export interface DrainItem {
  task: Task
  replacement: Task | null
}

/** How far a drain got: the node's live tasks still there, each with its replacement. */
export function drainProgress(ctx: Pick<ServiceContext, 'store'>, name: string): {node: Node; remaining: DrainItem[]} {
  return ctx.store.read(() => {
    const node = getNode(ctx, name)
    const live = listTasks(ctx.store, {live: true})
    const replacements = new Map(live.filter((t) => t.replaces !== null).map((t) => [t.replaces!, t]))
    return {node, remaining: live.filter((t) => t.nodeId === node.id).map((task) => ({task, replacement: replacements.get(task.id) ?? null}))}
  })
}

export interface DrainResult {
  node: Node
  /** Passes it took (run here, or the daemon's). */
  passes: number
  elapsedMs: number
}

/**
 * Drains a node and waits until it is empty: every pass (this command's own under the
 * controller lease, or a running daemon's) moves its tasks away make-before-break.
 * `onProgress` hears after every pass what is left and, for a replacement that cannot
 * be placed, why. Fails after `timeoutMs`, leaving the node draining, with what is left
 * and why; fails at once when the drain is given up meanwhile (uncordon, drain --cancel).
 */
export async function drainNode(ctx: ServiceContext, name: string, options: {timeoutMs: number; onProgress?: (remaining: DrainItem[]) => void} & ConvergeOptions): Promise<DrainResult> {
  const started = ctx.clock.now()
  startDrain(ctx, name)
  let passes = 0
  for (;;) {
    const {node, remaining} = drainProgress(ctx, name)
    options.onProgress?.(remaining)
    if (remaining.length === 0) return {node, passes, elapsedMs: ctx.clock.now() - started}
    if (node.adminState !== 'draining') throw new FailedError(`The drain of ${name} was stopped (it is ${node.adminState} now) with ${remaining.length} task${remaining.length === 1 ? '' : 's'} left on it; their replacements not yet placed were cancelled.`, {code: 'drain-stopped'})
    if (ctx.clock.now() - started > options.timeoutMs) {
      const list = remaining.slice(0, 5).map(({task, replacement}) => `${task.jobName}.${task.instance} (${drainItemState(task, replacement)})`).join(', ')
      throw new FailedError(`Node ${name} is not drained after ${Math.round(options.timeoutMs / 1000)}s: ${remaining.length} task${remaining.length === 1 ? '' : 's'} left: ${list}${remaining.length > 5 ? ', ...' : ''}.`, {
        code: 'drain-timeout',
        hint: `It stays draining and the controller keeps moving its tasks; see \`clusterctl ps\` and \`clusterctl events --node ${name}\`, or run \`clusterctl node drain ${name} --cancel\` to give up.`,
      })
    }

    const {timeoutMs: _t, onProgress: _p, ...passOptions} = options
    await converge(ctx, passOptions)
    passes++
  }
}

/** Where a task left on a draining node stands, in words: its replacement's state, or why it cannot be placed. */
export function drainItemState(task: Task, replacement: Task | null): string {
  if (!replacement) return `${task.state}, no replacement yet`
  if (replacement.state === 'pending') return `its replacement cannot be placed: ${replacement.reason ?? 'waiting to be scheduled'}`
  return `its replacement is ${replacement.state}${replacement.nodeName ? ` on ${replacement.nodeName}` : ''}`
}

function setAdminState(ctx: Pick<ServiceContext, 'store'>, name: string, target: AdminState): AdminChange {
  const {store} = ctx
  return store.write(() => {
    const node = getNode(ctx, name)
    // Until its next heartbeat a node that answers still shows the state asked before: show the one asked now.
    const shown = node.state === 'ready' || node.state === 'cordoned' || node.state === 'draining' ? target : node.state
    if (node.adminState === target) return {node: {...node, state: shown}, changed: false, cancelled: []}
    const now = store.clock.now()
    // Leaving a drain (uncordon, cordon, drain --cancel): its replacements not yet placed are cancelled.
    const cancelled = node.adminState === 'draining' ? pendingReplacementsOn(store, node.id) : []
    for (const t of cancelled) {
      updateTask(store, t.id, {state: 'killed', desired: 'stop', finishedAt: now, reason: `drain of ${name} cancelled`}, now)
      appendEvent(store, {type: 'task.killed', subjectKind: 'task', subject: t.id, message: `${t.jobName}.${t.instance}: not placed; the drain of ${name} was cancelled`, data: {job: t.jobName, instance: t.instance}})
    }

    updateNodeAdminState(store, node.id, target, now)
    const type = {ready: 'node.uncordoned', cordoned: 'node.cordoned', draining: 'node.draining'}[target]
    const message = {
      ready: `uncordoned: takes new work again${cancelled.length ? ` (drain cancelled: ${cancelled.length} pending replacement${cancelled.length === 1 ? '' : 's'} cancelled)` : ''}`,
      cordoned: node.adminState === 'draining' ? `drain stopped: stays cordoned; tasks not yet moved stay${cancelled.length ? ` (${cancelled.length} pending replacement${cancelled.length === 1 ? '' : 's'} cancelled)` : ''}` : 'cordoned: takes no new work; running tasks stay',
      draining: 'draining: takes no new work; its tasks move to other nodes, make-before-break',
    }[target]
    const health = node.state === node.adminState ? '' : ` (it is ${node.state} now: it takes this state when it answers its heartbeats again)`
    appendEvent(store, {type, subjectKind: 'node', subject: name, message: `${message}${health}`, data: {from: node.adminState, to: target}})
    return {node: {...node, adminState: target, state: shown}, changed: true, cancelled}
  })
}

/**
 * Marks a node as an edge node (`on`), or no longer one: an edge node serves every
 * service on its service port (docs/endpoints.md). Any node state may be marked; the
 * mark is kept through cordon, drain and failures. Idempotent.
 */
export function setEdge(ctx: Pick<ServiceContext, 'store'>, name: string, on: boolean): {node: Node; changed: boolean} {
  const {store} = ctx
  return store.write(() => {
    const node = getNode(ctx, name)
    if ((node.edge === true) === on) return {node, changed: false}
    updateNodeEdge(store, node.id, on)
    appendEvent(store, {type: on ? 'node.edge' : 'node.edge-off', subjectKind: 'node', subject: name, message: on ? 'marked as an edge node: it serves every service on its service port' : 'no longer an edge node', data: {edge: on}})
    return {node: {...node, edge: on}, changed: true}
  })
}

/**
 * Forgets a node. A node with live tasks is refused unless `force`: then its tasks
 * are recorded as lost (the next pass places replacements elsewhere); nothing on
 * the host is touched either way.
 */
export function removeNode(ctx: Pick<ServiceContext, 'store'>, name: string, options: {force?: boolean} = {}): Node {
  const {store} = ctx
  return store.write(() => {
    const node = getNode(ctx, name)
    const live = listTasks(store, {nodeId: node.id, live: true})
    if (live.length > 0 && !options.force) {
      throw new FailedError(`Node ${name} still runs ${live.length} task${live.length === 1 ? '' : 's'} (${live.slice(0, 3).map((t) => `${t.jobName}.${t.instance}`).join(', ')}${live.length > 3 ? ', ...' : ''}).`, {
        code: 'node-busy',
        hint: `Scale or stop those jobs first, or run \`clusterctl node rm ${name} --force\` to forget the node and replace its tasks elsewhere.`,
      })
    }

    const now = store.clock.now()
    for (const t of live) {
      updateTask(store, t.id, {state: 'lost', finishedAt: now, reason: `node ${name} was removed`}, now)
      appendEvent(store, {type: 'task.lost', subjectKind: 'task', subject: t.id, message: `${t.jobName}.${t.instance}: node ${name} was removed with --force`, data: {job: t.jobName, instance: t.instance}})
    }

    deleteNode(store, node.id)
    appendEvent(store, {type: 'node.removed', subjectKind: 'node', subject: name, message: `removed (was ${node.resolvedAddress})${live.length ? `; ${live.length} tasks lost` : ''}`, data: {id: node.id, lostTasks: live.map((t) => t.id)}})
    return node
  })
}

async function probe(transport: Transport, name: string, ctx: Pick<ServiceContext, 'clock'>): Promise<{inventory: Inventory; at: number}> {
  const argv = inventoryProbeArgv()
  const sentAt = ctx.clock.now()
  const result = await transport.exec(argv, {timeoutMs: PROBE_TIMEOUT_MS})
  const receivedAt = ctx.clock.now()
  if (!result.stdout.includes('@@@clusterctl:end')) {
    throw new RemoteError(name, ['sh', '-c', '<inventory probe>'], result, `The inventory probe did not complete on ${name} (exit ${result.code ?? result.signal}): ${stderrTail(result.stderr, {lines: 2, separator: ' ', max: Infinity}) || 'no output'}.`)
  }

  return {inventory: parseInventory(result.stdout, {sentAt, receivedAt}), at: receivedAt}
}

function chooseRuntime(name: string, inventory: Inventory, wanted: 'auto' | RuntimeName): RuntimeName {
  const {podman, containerd} = inventory.runtimes
  if (wanted === 'podman' || wanted === 'containerd') {
    const info = inventory.runtimes[wanted]
    if (info.usable) return wanted
    throw new FailedError(`Node ${name} cannot run containers with ${wanted}: ${info.problem ?? 'not usable'}.`, {
      code: 'no-runtime',
      hint: `Install or start ${wanted} on the host, or pick another with --runtime.`,
    })
  }

  if (podman.usable) return 'podman'
  if (containerd.usable) return 'containerd'
  throw new FailedError(`Node ${name} has no usable container runtime: ${podman.problem ?? 'podman not usable'}; ${containerd.problem ?? 'containerd not usable'}.`, {
    code: 'no-runtime',
    hint: 'Install podman (or containerd) on the host, then add it again.',
  })
}

function describe(r: Resources): string {
  return `cpus=${formatCpu(r.cpuMilli)}, mem=${formatBytes(r.memBytes)}, disk=${formatBytes(r.diskBytes)}, gpus=${r.gpus}`
}

/**
 * Node registration and inspection. Commands call these; they never touch SQL
 * or SSH themselves (DESIGN principle 1).
 */
import {FailedError, NotFoundError, RemoteError, UserError} from '../errors.js'
import {parseInventory} from '../inventory/parse.js'
import {inventoryProbeArgv} from '../inventory/probe.js'
import type {Inventory} from '../model/inventory.js'
import {
  allocatableOf,
  detectedResources,
  effectiveCapacity,
  isValidLabelKey,
  isValidNodeName,
  type Node,
  type NodeState,
  type RuntimeName,
} from '../model/node.js'
import {fitsWithin, formatBytes, formatCpu, type Resources, ZERO_RESOURCES} from '../model/resources.js'
import {defaultNodeName, parseTarget, type Target} from '../model/target.js'
import {appendEvent} from '../state/events.js'
import {listTasks, updateTask} from '../state/jobs.js'
import {deleteNode, findNode, insertNode, listNodes, updateNodeInventory, updateNodeState} from '../state/nodes.js'
import type {Transport} from '../../ssh/transport.js'
import {type ConnectSpec, connectSpecOf, type ServiceContext} from './context.js'

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
    labels: {...request.labels},
    declared,
    capacity,
    reserved,
    inventory,
    inventoriedAt: now,
    createdAt: now,
    lastSeenAt: now,
  }

  ctx.store.write(() => {
    // Checked again inside the transaction: another add may have taken the name meanwhile.
    if (findNode(ctx.store, name)) throw new FailedError(`Node ${name} already exists.`, {code: 'exists', hint: `Pick another --name, or run \`clusterctl node rm ${name}\` first.`})
    insertNode(ctx.store, node)
    appendEvent(ctx.store, {
      type: 'node.added',
      subjectKind: 'node',
      subject: name,
      message: `added ${transport.target} (${runtime}, ${describe(allocatableOf(node))} allocatable)${hostKey ? `, host key ${hostKey.fingerprint} pinned` : ''}`,
      data: {address: transport.target, runtime, hostKey: hostKey?.fingerprint ?? null},
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
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < valid.length) {
      const v = valid[next++]!
      try {
        const result = await addNode(v.request, ctx)
        outcome.added.push(result)
        options.onProgress?.({done: ++done, total: valid.length, target: v.request.target, ok: true, message: `added as ${result.node.name}`})
      } catch (error) {
        outcome.failed.push({target: v.request.target, name: v.name, error: error as Error})
        options.onProgress?.({done: ++done, total: valid.length, target: v.request.target, ok: false, message: (error as Error).message})
      }
    }
  }

  await Promise.all(Array.from({length: Math.min(options.concurrency ?? 32, valid.length)}, () => worker()))
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
 * takes work again. Both are idempotent; an unhealthy node (suspect, down,
 * unreachable) cannot be uncordoned into ready by hand.
 */
export function setSchedulable(ctx: Pick<ServiceContext, 'store'>, name: string, schedulable: boolean): {node: Node; changed: boolean} {
  const {store} = ctx
  return store.write(() => {
    const node = getNode(ctx, name)
    const target: NodeState = schedulable ? 'ready' : 'cordoned'
    if (node.state === target) return {node, changed: false}
    if (schedulable && node.state !== 'cordoned' && node.state !== 'draining') {
      throw new FailedError(`Node ${name} is ${node.state}, not cordoned: it becomes ready again when it answers its heartbeats.`, {code: 'node-state'})
    }

    if (!schedulable && node.state !== 'ready') {
      throw new FailedError(`Node ${name} is ${node.state}: it already takes no new work.`, {code: 'node-state'})
    }

    updateNodeState(store, node.id, target)
    appendEvent(store, {type: schedulable ? 'node.uncordoned' : 'node.cordoned', subjectKind: 'node', subject: name, message: schedulable ? 'uncordoned: takes new work again' : 'cordoned: takes no new work; running tasks stay', data: {from: node.state, to: target}})
    return {node: {...node, state: target}, changed: true}
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
    throw new RemoteError(name, ['sh', '-c', '<inventory probe>'], result, `The inventory probe did not complete on ${name} (exit ${result.code ?? result.signal}): ${result.stderr.trim().split('\n').slice(-2).join(' ') || 'no output'}.`)
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

import type {NodeCondition} from './health.js'
import type {Inventory} from './inventory.js'
import {type Resources, subtractResources} from './resources.js'

/** Every node state, `ready` first: only `ready` nodes take new work; the scheduler codes them by this order (ready = 0). */
export const NODE_STATES = ['ready', 'cordoned', 'draining', 'suspect', 'down', 'unreachable'] as const
export type NodeState = (typeof NODE_STATES)[number]

/** What an operator asked of a node. The shown `state` is this while the node answers its heartbeats. */
export const ADMIN_STATES = ['ready', 'cordoned', 'draining'] as const
export type AdminState = (typeof ADMIN_STATES)[number]

/** The last load and memory figures a node reported with its heartbeat. */
export interface NodeUsage {
  load1: number | null
  memAvailableBytes: number | null
  at: number
}

export const RUNTIMES = ['podman', 'containerd'] as const
export type RuntimeName = (typeof RUNTIMES)[number]

export interface HostKey {
  algorithm: string
  fingerprint: string
  key: string
}

/** How to reach a node, as the user gave it. `host` is `local` for the controller's own machine. */
export interface NodeAddress {
  host: string
  port: number | null
  user: string | null
}

/** What one observation taught about a node's health. */
export interface HeartbeatPatch {
  state: NodeState
  missedHeartbeats: number
  heartbeatError: string | null
  lastSeenAt: number | null
  stateSince: number | null
  usage?: NodeUsage | null
  /** The node's recent heartbeat latencies (ms, oldest first), when this observation added one. */
  heartbeatLatencies?: number[]
}

export interface Node {
  id: string
  name: string
  address: NodeAddress
  /** user@hostname:port it resolved to when added (or `local`). */
  resolvedAddress: string
  keyPath: string | null
  sudo: boolean
  runtime: RuntimeName
  hostKey: HostKey | null
  /** Shown and scheduled on: `adminState` while the node answers, else suspect, down or unreachable. */
  state: NodeState
  adminState: AdminState
  /** Consecutive observations the node did not answer. */
  missedHeartbeats: number
  /** Why the last observation failed, while it keeps failing. */
  heartbeatError: string | null
  /** When `state` last changed (null: never since it was added). */
  stateSince: number | null
  usage: NodeUsage | null
  /** Recent heartbeat latencies in ms, oldest first: the failure detector's history (reconcile/detector.ts). */
  heartbeatLatencies: number[]
  labels: Readonly<Record<string, string>>
  /** Resources given with --resources; they override what was detected. */
  declared: Partial<Resources>
  /** Effective capacity: declared where given, detected otherwise. */
  capacity: Resources
  /** Kept back for the host (--reserve). */
  reserved: Resources
  inventory: Inventory
  inventoriedAt: number
  createdAt: number
  lastSeenAt: number | null
  /** What the health probe found (docs/health.md), worst first. */
  conditions: NodeCondition[]
  /** When the health probe last answered (null: never). */
  healthProbedAt: number | null
  /**
   * An edge node: it runs an edge proxy that serves every service on its service port
   * (docs/endpoints.md; `clusterctl node edge NAME`). Absent: false.
   */
  edge?: boolean
}

export function isLocal(address: NodeAddress): boolean {
  return address.host === 'local'
}

/** What the scheduler may hand out: capacity minus the host's reserve. */
export function allocatableOf(node: Pick<Node, 'capacity' | 'reserved'>): Resources {
  return subtractResources(node.capacity, node.reserved)
}

/** Detected capacity from an inventory. CPU from usable threads, memory total, the data disk's size, compute GPUs. */
export function detectedResources(inventory: Inventory): Resources {
  return {
    cpuMilli: (inventory.cpu.threads ?? 0) * 1000,
    memBytes: inventory.memory.totalBytes ?? 0,
    diskBytes: inventory.dataDisk?.sizeBytes ?? 0,
    gpus: inventory.gpus.filter((g) => g.source === 'nvidia-smi' || isComputeGpu(g)).length,
  }
}

function isComputeGpu(gpu: {vendor: string | null}): boolean {
  const vendor = (gpu.vendor ?? '').toLowerCase()
  return vendor.includes('nvidia') || vendor.includes('advanced micro devices') || vendor.includes('amd') || vendor === '10de' || vendor === '1002'
}

/** Declared values override detected ones, per dimension. */
export function effectiveCapacity(detected: Resources, declared: Partial<Resources>): Resources {
  return {
    cpuMilli: declared.cpuMilli ?? detected.cpuMilli,
    memBytes: declared.memBytes ?? detected.memBytes,
    diskBytes: declared.diskBytes ?? detected.diskBytes,
    gpus: declared.gpus ?? detected.gpus,
  }
}

const NODE_NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/i

export function isValidNodeName(name: string): boolean {
  return NODE_NAME.test(name)
}

const LABEL_KEY = /^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/i
export function isValidLabelKey(key: string): boolean {
  return LABEL_KEY.test(key) && key !== 'hostname'
}

/**
 * The machine a node runs on, as far as its address tells: `local`, else the host and
 * SSH port it resolved to (without the user). Several node names for one address (the
 * lab set-up) are one machine: they share its host ports and its containers.
 */
export function machineOf(node: Pick<Node, 'resolvedAddress'>): string {
  if (node.resolvedAddress === 'local') return 'local'
  return node.resolvedAddress.slice(node.resolvedAddress.lastIndexOf('@') + 1)
}

/** The host a node's published ports are reached at: the address it resolved to (127.0.0.1 for local). */
export function publicHostOf(node: Pick<Node, 'resolvedAddress'>): string {
  if (node.resolvedAddress === 'local') return '127.0.0.1'
  const withoutUser = node.resolvedAddress.slice(node.resolvedAddress.lastIndexOf('@') + 1)
  const bracket = /^\[([^\]]+)\]/.exec(withoutUser)
  if (bracket) return bracket[1]!
  return withoutUser.replace(/:\d+$/, '')
}

/** `host:port` as clients write it: an IPv6 address in brackets. */
export function hostPortText(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`
}

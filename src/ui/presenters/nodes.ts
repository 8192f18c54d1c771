/**
 * Nodes as JSON (the stable `--json` contract, documented in docs/json.md) and as text.
 */
import type {Inventory} from '../../core/model/inventory.js'
import {allocatableOf, type Node} from '../../core/model/node.js'
import {type HeartbeatDeadline, describeDeadline, heartbeatDeadline, secondsText} from '../../core/reconcile/detector.js'
import {formatBytes, formatCpu, type Resources, resourcesToJson, type ResourcesJson} from '../../core/model/resources.js'
import {paint} from '../style.js'
import {renderFields, renderTable} from '../table.js'
import {type ConditionJson, conditionsCell, conditionToJson, renderConditions} from './health.js'

export interface NodeJson {
  id: string
  name: string
  state: string
  /** What the operator asked: ready, cordoned or draining (state differs while heartbeats fail). */
  adminState: string
  missedHeartbeats: number
  heartbeatError: string | null
  stateSince: string | null
  usage: {load1: number | null; memAvailableBytes: number | null; at: string} | null
  /** The failure detector's view of the node: its recent heartbeat latencies and the deadline they give (default settings). */
  heartbeatLatency: HeartbeatDeadline & {recentMs: number[]}
  address: {host: string; port: number | null; user: string | null}
  resolvedAddress: string
  runtime: string
  sudo: boolean
  labels: Record<string, string>
  hostKey: {algorithm: string; fingerprint: string} | null
  capacity: ResourcesJson
  reserved: ResourcesJson
  allocatable: ResourcesJson
  declared: Partial<ResourcesJson>
  createdAt: string
  inventoriedAt: string
  lastSeenAt: string | null
  /** What the health probe found, worst first (docs/health.md). */
  conditions: ConditionJson[]
  /** When the health probe last answered. */
  healthProbedAt: string | null
  /** An edge node: it serves every service on its service port (docs/endpoints.md). */
  edge: boolean
  inventory?: Inventory
}

const iso = (ms: number): string => new Date(ms).toISOString()

export function nodeToJson(node: Node, options: {inventory?: boolean} = {}): NodeJson {
  const declared: Partial<ResourcesJson> = {}
  if (node.declared.cpuMilli !== undefined) declared.cpus = node.declared.cpuMilli / 1000
  if (node.declared.memBytes !== undefined) declared.memBytes = node.declared.memBytes
  if (node.declared.diskBytes !== undefined) declared.diskBytes = node.declared.diskBytes
  if (node.declared.gpus !== undefined) declared.gpus = node.declared.gpus
  return {
    id: node.id,
    name: node.name,
    state: node.state,
    adminState: node.adminState,
    missedHeartbeats: node.missedHeartbeats,
    heartbeatError: node.heartbeatError,
    stateSince: node.stateSince === null ? null : iso(node.stateSince),
    usage: node.usage ? {load1: node.usage.load1, memAvailableBytes: node.usage.memAvailableBytes, at: iso(node.usage.at)} : null,
    heartbeatLatency: {...heartbeatDeadline(node.heartbeatLatencies), recentMs: [...node.heartbeatLatencies]},
    address: {...node.address},
    resolvedAddress: node.resolvedAddress,
    runtime: node.runtime,
    sudo: node.sudo,
    labels: {...node.labels},
    hostKey: node.hostKey ? {algorithm: node.hostKey.algorithm, fingerprint: node.hostKey.fingerprint} : null,
    capacity: resourcesToJson(node.capacity),
    reserved: resourcesToJson(node.reserved),
    allocatable: resourcesToJson(allocatableOf(node)),
    declared,
    createdAt: iso(node.createdAt),
    inventoriedAt: iso(node.inventoriedAt),
    lastSeenAt: node.lastSeenAt === null ? null : iso(node.lastSeenAt),
    conditions: node.conditions.map(conditionToJson),
    healthProbedAt: node.healthProbedAt === null ? null : iso(node.healthProbedAt),
    edge: node.edge === true,
    ...(options.inventory ? {inventory: node.inventory} : {}),
  }
}

export function ago(ms: number | null, now: number): string {
  if (ms === null) return 'never'
  const s = Math.max(0, Math.round((now - ms) / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86_400) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86_400)}d`
}

function labelsText(labels: Readonly<Record<string, string>>): string {
  const text = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
  return text || '-'
}

export function renderNodesTable(nodes: Node[], now: number, color: boolean): string {
  if (nodes.length === 0) return 'No nodes yet. Add one with `clusterctl add-node [USER@]HOST`.'
  return renderTable(
    ['NAME', 'STATE', 'EDGE', 'ADDRESS', 'RUNTIME', 'CPUS', 'MEM', 'DISK', 'GPUS', 'LABELS', 'SEEN', 'LATENCY', 'CONDITIONS'],
    nodes.map((n) => {
      const a = allocatableOf(n)
      return [n.name, paint.nodeState(n.state, color), n.edge ? 'yes' : '-', n.resolvedAddress, n.runtime, formatCpu(a.cpuMilli), formatBytes(a.memBytes), formatBytes(a.diskBytes), String(a.gpus), labelsText(n.labels), ago(n.lastSeenAt, now), latencyText(n), conditionsCell(n, color)]
    }),
  )
}

/** The node's usual heartbeat latency (mean of its recent ones), or `-` before the first. */
export function latencyText(node: Pick<Node, 'heartbeatLatencies'>): string {
  const d = heartbeatDeadline(node.heartbeatLatencies)
  return d.meanMs === null ? '-' : secondsText(d.meanMs)
}

/** "last 1.28s, deadline 2.36s (its usual 1.31s +- 0.08s over 30 heartbeats)". */
export function heartbeatText(node: Pick<Node, 'heartbeatLatencies'>): string {
  const d = heartbeatDeadline(node.heartbeatLatencies)
  return d.lastMs === null ? 'no heartbeat measured yet' : `last ${secondsText(d.lastMs)}, deadline ${describeDeadline(d)}`
}

function resourcesText(r: Resources): string {
  return `cpus ${formatCpu(r.cpuMilli)}, mem ${formatBytes(r.memBytes)}, disk ${formatBytes(r.diskBytes)}, gpus ${r.gpus}`
}

export function renderNodeDetail(node: Node, now: number, color: boolean): string {
  const inv = node.inventory
  return [
    renderFields([
      ['Name', paint.bold(node.name, color)],
      ['State', paint.nodeState(node.state, color)],
      ['Edge', node.edge ? 'yes: serves every service on its service port' : 'no'],
      ['Address', node.resolvedAddress + (node.sudo ? ' (sudo)' : '')],
      ['Runtime', `${node.runtime} ${inv.runtimes[node.runtime].version ?? ''}`.trim()],
      ['Host key', node.hostKey ? `${node.hostKey.algorithm} ${node.hostKey.fingerprint}` : '- (local)'],
      ['Labels', labelsText(node.labels)],
      ['Capacity', resourcesText(node.capacity) + (Object.keys(node.declared).length > 0 ? ' (declared where given)' : '')],
      ['Reserved', resourcesText(node.reserved)],
      ['Allocatable', resourcesText(allocatableOf(node))],
      ['Added', `${new Date(node.createdAt).toISOString()} (${ago(node.createdAt, now)} ago)`],
      ['Last seen', node.lastSeenAt === null ? 'never' : `${ago(node.lastSeenAt, now)} ago`],
      ['Heartbeat', heartbeatText(node)],
      ['Health probe', node.healthProbedAt === null ? 'not yet' : `${ago(node.healthProbedAt, now)} ago (\`clusterctl node doctor ${node.name}\` probes now)`],
    ]),
    '',
    paint.bold('Conditions', color),
    renderConditions(node.conditions, now, color),
    '',
    renderInventory(node, now, color),
  ].join('\n')
}

export function renderInventory(node: Node, now: number, color: boolean): string {
  const inv = node.inventory
  const dash = (v: string | number | null | undefined): string => (v === null || v === undefined || v === '' ? '-' : String(v))
  const rt = (name: 'podman' | 'containerd'): string => {
    const r = inv.runtimes[name]
    if (r.usable) return `${r.version ?? '?'} ${paint.ok('usable', color)}${r.storage ? `, ${r.storage} storage` : ''}`
    return `${r.version ?? 'not installed'}${r.problem && r.version ? ` (${r.problem})` : ''}`
  }

  const lines = [
    paint.bold(`Inventory of ${node.name}`, color) + paint.dim(` (probed ${ago(node.inventoriedAt, now)} ago in ${inv.probeMs} ms)`, color),
    renderFields([
      ['Hostname', dash(inv.hostname)],
      ['OS', dash(inv.os.prettyName ?? inv.os.name)],
      ['Kernel', `${dash(inv.kernel)} ${dash(inv.arch)}`],
      ['CPU', `${dash(inv.cpu.model)}: ${dash(inv.cpu.sockets)} socket(s), ${dash(inv.cpu.cores)} core(s), ${dash(inv.cpu.threads)} thread(s)`],
      ['Memory', `${inv.memory.totalBytes === null ? '-' : formatBytes(inv.memory.totalBytes)} total, ${inv.memory.availableBytes === null ? '-' : formatBytes(inv.memory.availableBytes)} available${inv.memory.edacControllers ? `, ECC reported (EDAC: ${inv.memory.edacControllers} memory controller(s))` : ''}`],
      ['GPUs', inv.gpus.length === 0 ? '-' : inv.gpus.map((g) => `${g.vendor ?? ''} ${g.model}${g.memoryBytes ? ` ${formatBytes(g.memoryBytes)}` : ''} [${g.source}]`.trim()).join('; ')],
      ['podman', rt('podman')],
      ['containerd', rt('containerd')],
      ['cgroup', inv.cgroupVersion === null ? '-' : `v${inv.cgroupVersion}`],
      ['Load', inv.load ? `${inv.load.one} ${inv.load.five} ${inv.load.fifteen}` : '-'],
      ['Uptime', inv.uptimeSeconds === null ? '-' : ago(now - inv.uptimeSeconds * 1000, now)],
      ['Clock offset', inv.clockOffsetMs === null ? '-' : `${inv.clockOffsetMs} ms`],
    ]),
  ]
  if (inv.disks.length > 0) {
    lines.push('', renderTable(['MOUNT', 'DEVICE', 'FS', 'SIZE', 'FREE'], inv.disks.map((d) => [d.mount + (inv.dataDisk?.mount === d.mount ? ' (data)' : ''), d.device, dash(d.fsType), formatBytes(d.sizeBytes), formatBytes(d.freeBytes)])))
  }

  if (inv.network.length > 0) {
    lines.push('', renderTable(['INTERFACE', 'STATE', 'MAC', 'ADDRESSES'], inv.network.map((n) => [n.name, dash(n.state), dash(n.mac), n.addresses.join(' ') || '-'])))
  }

  return lines.join('\n')
}

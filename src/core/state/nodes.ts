import type {NodeCondition} from '../model/health.js'
import type {Inventory} from '../model/inventory.js'
import type {AdminState, HeartbeatPatch, HostKey, Node, NodeState, NodeUsage, RuntimeName} from '../model/node.js'
import type {Resources} from '../model/resources.js'
import {listConditions} from './health.js'
import type {Store} from './store.js'

interface NodeRow {
  id: string
  name: string
  host: string
  port: number | null
  user: string | null
  resolved_address: string
  key_path: string | null
  sudo: number
  runtime: RuntimeName
  host_key_algorithm: string | null
  host_key_fingerprint: string | null
  host_key: string | null
  state: NodeState
  admin_state: AdminState
  missed_heartbeats: number
  heartbeat_error: string | null
  state_since: number | null
  usage: string | null
  heartbeat_latencies: string
  labels: string
  declared: string
  cap_cpu_milli: number
  cap_mem_bytes: number
  cap_disk_bytes: number
  cap_gpus: number
  res_cpu_milli: number
  res_mem_bytes: number
  res_disk_bytes: number
  res_gpus: number
  inventory: string
  inventoried_at: number
  created_at: number
  last_seen_at: number | null
  health_probed_at: number | null
  edge: number
}

function toNode(row: NodeRow, conditions: NodeCondition[]): Node {
  const hostKey: HostKey | null =
    row.host_key_fingerprint && row.host_key_algorithm && row.host_key
      ? {algorithm: row.host_key_algorithm, fingerprint: row.host_key_fingerprint, key: row.host_key}
      : null
  return {
    id: row.id,
    name: row.name,
    address: {host: row.host, port: row.port, user: row.user},
    resolvedAddress: row.resolved_address,
    keyPath: row.key_path,
    sudo: row.sudo === 1,
    runtime: row.runtime,
    hostKey,
    state: row.state,
    adminState: row.admin_state,
    missedHeartbeats: row.missed_heartbeats,
    heartbeatError: row.heartbeat_error,
    stateSince: row.state_since,
    usage: row.usage === null ? null : (JSON.parse(row.usage) as NodeUsage),
    heartbeatLatencies: JSON.parse(row.heartbeat_latencies) as number[],
    labels: JSON.parse(row.labels) as Record<string, string>,
    declared: JSON.parse(row.declared) as Partial<Resources>,
    capacity: {cpuMilli: row.cap_cpu_milli, memBytes: row.cap_mem_bytes, diskBytes: row.cap_disk_bytes, gpus: row.cap_gpus},
    reserved: {cpuMilli: row.res_cpu_milli, memBytes: row.res_mem_bytes, diskBytes: row.res_disk_bytes, gpus: row.res_gpus},
    inventory: JSON.parse(row.inventory) as Inventory,
    inventoriedAt: row.inventoried_at,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    conditions,
    healthProbedAt: row.health_probed_at,
    edge: row.edge === 1,
  }
}

export function insertNode(store: Store, node: Node): void {
  store
    .stmt(
      `INSERT INTO nodes (id, name, host, port, user, resolved_address, key_path, sudo, runtime,
         host_key_algorithm, host_key_fingerprint, host_key, state, admin_state, labels, declared,
         cap_cpu_milli, cap_mem_bytes, cap_disk_bytes, cap_gpus, res_cpu_milli, res_mem_bytes, res_disk_bytes, res_gpus,
         inventory, inventoried_at, created_at, last_seen_at, state_since, edge)
       VALUES (@id, @name, @host, @port, @user, @resolvedAddress, @keyPath, @sudo, @runtime,
         @hkAlg, @hkFp, @hkKey, @state, @adminState, @labels, @declared,
         @capCpu, @capMem, @capDisk, @capGpus, @resCpu, @resMem, @resDisk, @resGpus,
         @inventory, @inventoriedAt, @createdAt, @lastSeenAt, @stateSince, @edge)`,
    )
    .run({
      id: node.id,
      name: node.name,
      host: node.address.host,
      port: node.address.port,
      user: node.address.user,
      resolvedAddress: node.resolvedAddress,
      keyPath: node.keyPath,
      sudo: node.sudo ? 1 : 0,
      runtime: node.runtime,
      hkAlg: node.hostKey?.algorithm ?? null,
      hkFp: node.hostKey?.fingerprint ?? null,
      hkKey: node.hostKey?.key ?? null,
      state: node.state,
      adminState: node.adminState,
      labels: JSON.stringify(node.labels),
      declared: JSON.stringify(node.declared),
      capCpu: node.capacity.cpuMilli,
      capMem: node.capacity.memBytes,
      capDisk: node.capacity.diskBytes,
      capGpus: node.capacity.gpus,
      resCpu: node.reserved.cpuMilli,
      resMem: node.reserved.memBytes,
      resDisk: node.reserved.diskBytes,
      resGpus: node.reserved.gpus,
      inventory: JSON.stringify(node.inventory),
      inventoriedAt: node.inventoriedAt,
      createdAt: node.createdAt,
      lastSeenAt: node.lastSeenAt,
      stateSince: node.stateSince,
      edge: node.edge ? 1 : 0,
    })
}

export function listNodes(store: Store): Node[] {
  const conditions = listConditions(store)
  return (store.stmt(`SELECT * FROM nodes ORDER BY name`).all() as NodeRow[]).map((row) => toNode(row, conditions.get(row.id) ?? []))
}

export function findNode(store: Store, name: string): Node | undefined {
  const row = store.stmt(`SELECT * FROM nodes WHERE name = ?`).get(name) as NodeRow | undefined
  return row ? toNode(row, listConditions(store, row.id).get(row.id) ?? []) : undefined
}

export function deleteNode(store: Store, id: string): boolean {
  return store.stmt(`DELETE FROM nodes WHERE id = ?`).run(id).changes === 1
}

/** Stores a fresh inventory and the capacity derived from it. */
export function updateNodeInventory(store: Store, id: string, inventory: Inventory, capacity: Resources, at: number): void {
  store
    .stmt(
      `UPDATE nodes SET inventory = @inventory, inventoried_at = @at, last_seen_at = @at,
         cap_cpu_milli = @cpu, cap_mem_bytes = @mem, cap_disk_bytes = @disk, cap_gpus = @gpus
       WHERE id = @id`,
    )
    .run({id, inventory: JSON.stringify(inventory), at, cpu: capacity.cpuMilli, mem: capacity.memBytes, disk: capacity.diskBytes, gpus: capacity.gpus})
}

/** Sets what an operator asked; the shown state follows unless the node is failing its heartbeats. */
export function updateNodeAdminState(store: Store, id: string, adminState: AdminState, at: number): void {
  store
    .stmt(
      `UPDATE nodes SET admin_state = @adminState,
         state_since = CASE WHEN state IN ('ready', 'cordoned', 'draining') AND state <> @adminState THEN @at ELSE state_since END,
         state = CASE WHEN state IN ('ready', 'cordoned', 'draining') THEN @adminState ELSE state END
       WHERE id = @id`,
    )
    .run({id, adminState, at})
}

/** Marks a node as an edge node, or not (docs/endpoints.md). */
export function updateNodeEdge(store: Store, id: string, edge: boolean): void {
  store.stmt(`UPDATE nodes SET edge = ? WHERE id = ?`).run(edge ? 1 : 0, id)
}

export function updateNodeHeartbeat(store: Store, id: string, patch: HeartbeatPatch): void {
  store
    .stmt(
      // A node that answers takes the state the operator asks NOW: a pass that read the node before a
      // cordon (or drain) committed must not write the old one back.
      `UPDATE nodes SET state = CASE WHEN @state IN ('ready', 'cordoned', 'draining') THEN admin_state ELSE @state END, missed_heartbeats = @missed, heartbeat_error = @error, last_seen_at = @lastSeenAt,
         state_since = @stateSince, usage = CASE WHEN @hasUsage = 1 THEN @usage ELSE usage END,
         heartbeat_latencies = COALESCE(@latencies, heartbeat_latencies)
       WHERE id = @id`,
    )
    .run({
      id,
      state: patch.state,
      missed: patch.missedHeartbeats,
      error: patch.heartbeatError,
      lastSeenAt: patch.lastSeenAt,
      stateSince: patch.stateSince,
      hasUsage: patch.usage === undefined ? 0 : 1,
      usage: patch.usage ? JSON.stringify(patch.usage) : null,
      latencies: patch.heartbeatLatencies ? JSON.stringify(patch.heartbeatLatencies) : null,
    })
}

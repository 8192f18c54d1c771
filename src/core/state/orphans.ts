import type {Store} from './store.js'

/**
 * Sightings of containers of this cluster that no task owns. A container is removed
 * only once it has been seen orphaned for the grace period: a safety net against
 * removing work the state file does not know yet (a restored older copy of the file,
 * a clock jump), never the normal path.
 */
export function orphanSightings(store: Store): Map<string, number> {
  const rows = store.stmt(`SELECT node_id, container_name, first_seen_at FROM orphan_sightings`).all() as Array<{node_id: string; container_name: string; first_seen_at: number}>
  return new Map(rows.map((r) => [`${r.node_id}/${r.container_name}`, r.first_seen_at]))
}

export function recordOrphanSighting(store: Store, nodeId: string, containerName: string, at: number): void {
  store.stmt(`INSERT INTO orphan_sightings (node_id, container_name, first_seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`).run(nodeId, containerName, at)
}

/** Forgets the sightings on a node that were not seen again (the container went, or a task owns it). */
export function pruneOrphanSightings(store: Store, nodeId: string, stillOrphaned: readonly string[]): void {
  const keep = new Set(stillOrphaned)
  const rows = store.stmt(`SELECT container_name FROM orphan_sightings WHERE node_id = ?`).all(nodeId) as Array<{container_name: string}>
  for (const r of rows) if (!keep.has(r.container_name)) store.stmt(`DELETE FROM orphan_sightings WHERE node_id = ? AND container_name = ?`).run(nodeId, r.container_name)
}

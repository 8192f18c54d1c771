import type {Database} from 'better-sqlite3'

/**
 * Node health (docs/health.md): the conditions the health probe raised, one row per
 * node and condition type, and a short history of probe samples per node (bounded:
 * the store keeps the newest HEALTH_HISTORY of each node) for deltas and trends.
 * `health_probed_at` says when the node was last probed: the probe runs every 30 s,
 * not every pass.
 */
export const version = 9

export function up(db: Database): void {
  db.exec(`
    ALTER TABLE nodes ADD COLUMN health_probed_at INTEGER;

    CREATE TABLE node_conditions (
      node_id   TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
      type      TEXT NOT NULL,
      severity  TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
      reason    TEXT NOT NULL,
      message   TEXT NOT NULL,
      since     INTEGER NOT NULL,
      last_seen INTEGER NOT NULL,
      PRIMARY KEY (node_id, type)
    ) STRICT;

    CREATE TABLE health_samples (
      node_id TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
      at      INTEGER NOT NULL,
      sample  TEXT NOT NULL CHECK (json_valid(sample)),
      PRIMARY KEY (node_id, at)
    ) STRICT;
  `)
}

import type {Database} from 'better-sqlite3'

/**
 * The failure-watch loop's state.
 *
 * Nodes: `admin_state` is what an operator asked for (ready, cordoned, draining);
 * `state` stays the state shown and scheduled on, which is the admin state while
 * the node answers its heartbeats and suspect, down or unreachable while it does not.
 * `missed_heartbeats` counts consecutive missed observations, `state_since` when the
 * state last changed, `usage` the last load and memory figures the node reported.
 *
 * Tasks: `replaces` names the task a make-before-break move (better node, drain)
 * replaces; health checks keep their consecutive failures and the time of the last check.
 *
 * Orphan sightings: a container of this cluster that no task owns is removed only
 * once it has been seen orphaned for a grace period.
 */
export const version = 6

export function up(db: Database): void {
  db.exec(`
    ALTER TABLE nodes ADD COLUMN admin_state TEXT NOT NULL DEFAULT 'ready' CHECK (admin_state IN ('ready', 'cordoned', 'draining'));
    UPDATE nodes SET admin_state = state WHERE state IN ('ready', 'cordoned', 'draining');
    ALTER TABLE nodes ADD COLUMN missed_heartbeats INTEGER NOT NULL DEFAULT 0 CHECK (missed_heartbeats >= 0);
    ALTER TABLE nodes ADD COLUMN heartbeat_error TEXT;
    ALTER TABLE nodes ADD COLUMN state_since INTEGER;
    ALTER TABLE nodes ADD COLUMN usage TEXT;

    ALTER TABLE tasks ADD COLUMN replaces TEXT;
    ALTER TABLE tasks ADD COLUMN health_failures INTEGER NOT NULL DEFAULT 0 CHECK (health_failures >= 0);
    ALTER TABLE tasks ADD COLUMN health_checked_at INTEGER;
    ALTER TABLE tasks ADD COLUMN health_message TEXT;

    CREATE TABLE orphan_sightings (
      node_id        TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
      container_name TEXT NOT NULL,
      first_seen_at  INTEGER NOT NULL,
      PRIMARY KEY (node_id, container_name)
    ) STRICT;
  `)
}

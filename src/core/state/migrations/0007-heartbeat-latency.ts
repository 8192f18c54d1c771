import type {Database} from 'better-sqlite3'

/**
 * The failure detector's memory (docs/decisions/0007): each node's recent heartbeat
 * latencies in milliseconds, oldest first, as a JSON array (at most the detector's
 * window, 30). The deadline for the node's next heartbeat is judged against them.
 */
export const version = 7

export function up(db: Database): void {
  db.exec(`ALTER TABLE nodes ADD COLUMN heartbeat_latencies TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(heartbeat_latencies) AND json_type(heartbeat_latencies) = 'array');`)
}

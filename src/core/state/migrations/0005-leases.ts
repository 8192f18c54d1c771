import type {Database} from 'better-sqlite3'

/**
 * Leases: which controller may act. The daemon holds `controller` for as long
 * as it runs (renewing it every pass); a one-shot command holds it for its
 * pass. A holder killed with -9 blocks others only until `expires_at`.
 */
export const version = 5

export function up(db: Database): void {
  db.exec(`
    CREATE TABLE leases (
      name        TEXT PRIMARY KEY NOT NULL,
      holder      TEXT NOT NULL,
      kind        TEXT NOT NULL CHECK (kind IN ('daemon', 'command')),
      pid         INTEGER NOT NULL,
      hostname    TEXT NOT NULL,
      acquired_at INTEGER NOT NULL,
      expires_at  INTEGER NOT NULL
    ) STRICT;
  `)
}

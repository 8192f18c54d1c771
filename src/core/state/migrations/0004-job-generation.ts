import type {Database} from 'better-sqlite3'

/**
 * A job's restart generation. `clusterctl restart JOB` bumps it; it enters the
 * job's container hash, so every instance is replaced (make-before-break) by the
 * same machinery that rolls out a changed spec.
 */
export const version = 4

export function up(db: Database): void {
  db.exec(`ALTER TABLE jobs ADD COLUMN generation INTEGER NOT NULL DEFAULT 0 CHECK (generation >= 0)`)
}

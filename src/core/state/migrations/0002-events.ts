import type {Database} from 'better-sqlite3'

/**
 * The event log: every state change, with its reason. `subject_kind` is
 * node, job or task; `subject` its name or id. Events outlive their subject
 * (no foreign key), so the history of a removed node stays readable.
 */
export const version = 2

export function up(db: Database): void {
  db.exec(`
    CREATE TABLE events (
      id           INTEGER PRIMARY KEY,
      at           INTEGER NOT NULL,
      type         TEXT NOT NULL,
      subject_kind TEXT NOT NULL CHECK (subject_kind IN ('cluster', 'node', 'job', 'task')),
      subject      TEXT NOT NULL,
      message      TEXT NOT NULL,
      data         TEXT NOT NULL DEFAULT '{}'
    ) STRICT;
    CREATE INDEX events_at ON events (at);
    CREATE INDEX events_subject ON events (subject_kind, subject, at);
  `)
}

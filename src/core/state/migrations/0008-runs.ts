import type {Database} from 'better-sqlite3'

/**
 * Runs of scheduled and dependent jobs (docs/scheduled-jobs.md).
 *
 * A run row (id: job and scheduled time, `#N` for attempt N) is written in the same
 * transaction as its task, before any container starts: the primary key makes a
 * second firing of the same time impossible, so a crash never double-runs it.
 * `run_cursors` says up to when each schedule was evaluated (and its next time and
 * Rn launches left); `parent_successes` counts each parent's successes since the
 * child's last start, so a controller restart loses no dependency state.
 */
export const version = 8

export function up(db: Database): void {
  db.exec(`
    CREATE TABLE runs (
      id           TEXT PRIMARY KEY NOT NULL,
      job_id       TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      job_name     TEXT NOT NULL,
      trigger      TEXT NOT NULL CHECK (trigger IN ('schedule', 'parent', 'manual', 'retry')),
      scheduled_at INTEGER NOT NULL,
      attempt      INTEGER NOT NULL CHECK (attempt >= 1),
      state        TEXT NOT NULL CHECK (state IN ('waiting', 'starting', 'running', 'succeeded', 'failed', 'skipped')),
      task_id      TEXT,
      node         TEXT,
      exit_code    INTEGER,
      reason       TEXT,
      created_at   INTEGER NOT NULL,
      started_at   INTEGER,
      ended_at     INTEGER,
      retry_at     INTEGER
    ) STRICT;
    CREATE INDEX runs_job ON runs (job_id, scheduled_at);
    CREATE INDEX runs_open ON runs (state) WHERE state IN ('waiting', 'starting', 'running') OR retry_at IS NOT NULL;

    CREATE TABLE run_cursors (
      job_id       TEXT PRIMARY KEY NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      key          TEXT NOT NULL,
      anchor       INTEGER NOT NULL,
      evaluated_to INTEGER NOT NULL,
      next_at      INTEGER,
      remaining    INTEGER CHECK (remaining IS NULL OR remaining >= 0)
    ) STRICT;

    CREATE TABLE parent_successes (
      child_id  TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      parent    TEXT NOT NULL,
      successes INTEGER NOT NULL CHECK (successes >= 0),
      PRIMARY KEY (child_id, parent)
    ) STRICT;
  `)
}

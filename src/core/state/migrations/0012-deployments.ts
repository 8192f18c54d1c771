import type {Database} from 'better-sqlite3'

/**
 * Deployments (docs/deployments.md): every change of a job's containers (create,
 * apply, restart, rollback, undo) is a numbered version of that job, with its spec, its
 * state and its outcome. The reconcile pass drives the newest one from what it
 * observes; what it records here (progress time, failures counted from the tasks of
 * the version) lets a controller killed mid-rollout resume it. `ready_at` on tasks:
 * since when a task has been healthy, for minHealthyTime; `readiness*`: the result of
 * the job's readiness check (gates rollouts, never kills).
 */
export const version = 12

export function up(db: Database): void {
  db.exec(`
    CREATE TABLE deployments (
      id           TEXT PRIMARY KEY NOT NULL,
      job_id       TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      version      INTEGER NOT NULL CHECK (version >= 1),
      cause        TEXT NOT NULL CHECK (cause IN ('create', 'apply', 'restart', 'rollback', 'undo', 'import')),
      spec         TEXT NOT NULL,                 -- JSON JobSpec of this version
      spec_hash    TEXT NOT NULL,
      generation   INTEGER NOT NULL CHECK (generation >= 0),
      state        TEXT NOT NULL CHECK (state IN ('running', 'paused', 'succeeded', 'failed', 'superseded')),
      reason       TEXT,
      rolled_back_to INTEGER,                     -- version a failed one rolled back to
      available    INTEGER NOT NULL DEFAULT 0,    -- new instances available when last seen (progress)
      progress_at  INTEGER NOT NULL,              -- last time an instance became available (progressDeadline)
      counted_from INTEGER NOT NULL,              -- failed tasks of the version count from here (reset by resume)
      promoted     INTEGER NOT NULL DEFAULT 0 CHECK (promoted IN (0, 1)),  -- canaries promoted
      created_at   INTEGER NOT NULL,
      updated_at   INTEGER NOT NULL,
      ended_at     INTEGER,
      UNIQUE (job_id, version)
    ) STRICT;
    CREATE INDEX deployments_open ON deployments (state) WHERE state IN ('running', 'paused');
    ALTER TABLE tasks ADD COLUMN ready_at INTEGER;
    ALTER TABLE tasks ADD COLUMN readiness TEXT NOT NULL DEFAULT 'unknown' CHECK (readiness IN ('ready', 'not-ready', 'unknown'));
    ALTER TABLE tasks ADD COLUMN readiness_at INTEGER;          -- since when its readiness check passes
    ALTER TABLE tasks ADD COLUMN readiness_checked_at INTEGER;
  `)
}

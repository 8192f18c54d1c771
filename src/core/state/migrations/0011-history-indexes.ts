import type {Database} from 'better-sqlite3'

/**
 * Bounded history (docs/history.md): the reconcile read touches live rows only.
 * - `tasks_ended`: the latest ended task of one instance is one index seek, however many
 *   ended before it (the read was a correlated scan of every ended task);
 * - `tasks_live_instance`: whether an instance has a live task, one seek (the read skips
 *   the ended tasks of instances that run);
 * - `tasks_failed`: recent failures (the nodes an instance avoids) by time, not a scan;
 * - `runs_ended`: retention of runs by age.
 */
export const version = 11

export function up(db: Database): void {
  db.exec(`
    CREATE INDEX tasks_ended ON tasks (job_id, instance, created_at) WHERE state IN ('finished', 'failed', 'lost');
    CREATE INDEX tasks_live_instance ON tasks (job_id, instance) WHERE state IN ('pending', 'staging', 'starting', 'running', 'unreachable');
    CREATE INDEX tasks_failed ON tasks (finished_at) WHERE state = 'failed';
    CREATE INDEX tasks_done ON tasks (updated_at) WHERE state IN ('finished', 'failed', 'killed', 'lost');
    CREATE INDEX runs_ended ON runs (created_at) WHERE state IN ('succeeded', 'failed', 'skipped');
  `)
}

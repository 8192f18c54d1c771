import type {Database} from 'better-sqlite3'

/**
 * Jobs (desired state) and tasks (one instance placed on one node), and the
 * cluster's id, which every container this cluster starts carries as a label.
 *
 * A task row is written BEFORE its container is started (state staging, with
 * its deterministic container name), so a controller killed at any moment
 * finds, on its next pass, either the container to adopt or nothing to undo.
 * Terminal tasks stay as history; `node_id` is cleared if the node is removed.
 */
export const version = 3

export function up(db: Database): void {
  db.exec(`
    INSERT INTO meta (key, value) VALUES ('cluster_id', lower(hex(randomblob(6))));

    CREATE TABLE jobs (
      id          TEXT PRIMARY KEY NOT NULL,
      name        TEXT NOT NULL UNIQUE,
      kind        TEXT NOT NULL CHECK (kind IN ('service', 'batch')),
      spec        TEXT NOT NULL,                -- JSON JobSpec as validated
      spec_hash   TEXT NOT NULL,                -- containerSpecHash(spec)
      instances   INTEGER NOT NULL CHECK (instances >= 0),   -- desired count (scale changes it)
      state       TEXT NOT NULL CHECK (state IN ('active', 'stopped')),
      created_at  INTEGER NOT NULL,
      updated_at  INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE tasks (
      id             TEXT PRIMARY KEY NOT NULL,
      job_id         TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      instance       INTEGER NOT NULL CHECK (instance >= 0),
      node_id        TEXT REFERENCES nodes (id) ON DELETE SET NULL,
      state          TEXT NOT NULL CHECK (state IN ('pending', 'staging', 'starting', 'running', 'finished', 'failed', 'killed', 'lost', 'unreachable')),
      desired        TEXT NOT NULL DEFAULT 'run' CHECK (desired IN ('run', 'stop')),
      health         TEXT NOT NULL DEFAULT 'unknown' CHECK (health IN ('healthy', 'unhealthy', 'unknown')),
      container_name TEXT,
      host_ports     TEXT NOT NULL DEFAULT '[]',  -- JSON: [{containerPort, hostPort, protocol}]
      spec_hash      TEXT NOT NULL,
      reason         TEXT,                        -- why pending, or the last failure
      reason_data    TEXT,                        -- JSON: structured reason (counts per rejection)
      restarts       INTEGER NOT NULL DEFAULT 0,
      exit_code      INTEGER,
      created_at     INTEGER NOT NULL,
      updated_at     INTEGER NOT NULL,
      started_at     INTEGER,
      finished_at    INTEGER
    ) STRICT;
    CREATE INDEX tasks_job ON tasks (job_id, state);
    CREATE INDEX tasks_node ON tasks (node_id) WHERE node_id IS NOT NULL;
    CREATE INDEX tasks_live ON tasks (state) WHERE state IN ('pending', 'staging', 'starting', 'running', 'unreachable');
  `)
}

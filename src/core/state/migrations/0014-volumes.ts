import type {Database} from 'better-sqlite3'

/**
 * Named volumes (docs/volumes.md). A local volume belongs to one instance of one job
 * (`NAME-i`) and, once its first task was placed, to one node, whose disk its size is
 * reserved on until the volume is removed; `used_bytes` is what the node's last
 * observation measured. An NFS volume records its export. job_id and node_id are not
 * foreign keys: a volume outlives its job (`rm` keeps it) and names a node that may
 * be gone (`volume forget`).
 */
export const version = 14

export function up(db: Database): void {
  db.exec(`
    CREATE TABLE volumes (
      id           TEXT PRIMARY KEY NOT NULL,
      name         TEXT NOT NULL UNIQUE,
      kind         TEXT NOT NULL CHECK (kind IN ('local', 'nfs')),
      job_id       TEXT,
      job_name     TEXT,
      instance     INTEGER CHECK (instance IS NULL OR instance >= 0),
      node_id      TEXT,
      size_bytes   INTEGER NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
      used_bytes   INTEGER CHECK (used_bytes IS NULL OR used_bytes >= 0),
      used_at      INTEGER,
      nfs_server   TEXT,
      nfs_export   TEXT,
      nfs_options  TEXT,
      created_at   INTEGER NOT NULL,
      updated_at   INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX volumes_node ON volumes (node_id) WHERE node_id IS NOT NULL;
    CREATE INDEX volumes_job ON volumes (job_id) WHERE job_id IS NOT NULL;
  `)
}

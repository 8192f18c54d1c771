import type {Database} from 'better-sqlite3'

/**
 * Teams (docs/teams.md): a weight for weighted Dominant Resource Fairness and hard
 * quotas (NULL: unlimited). A job names its team in its spec; a team without a row
 * has weight 1 and no quota, so no row is needed until `clusterctl team set`.
 */
export const version = 10

export function up(db: Database): void {
  db.exec(`
    CREATE TABLE teams (
      name             TEXT PRIMARY KEY NOT NULL,
      weight           REAL NOT NULL CHECK (weight > 0),
      quota_cpu_milli  INTEGER CHECK (quota_cpu_milli IS NULL OR quota_cpu_milli >= 0),
      quota_mem_bytes  INTEGER CHECK (quota_mem_bytes IS NULL OR quota_mem_bytes >= 0),
      quota_disk_bytes INTEGER CHECK (quota_disk_bytes IS NULL OR quota_disk_bytes >= 0),
      quota_gpus       INTEGER CHECK (quota_gpus IS NULL OR quota_gpus >= 0),
      created_at       INTEGER NOT NULL,
      updated_at       INTEGER NOT NULL
    ) STRICT;
  `)
}

import type {Database} from 'better-sqlite3'

/**
 * The cluster's identity and its nodes. A node row carries how to reach it
 * (address, user, key, sudo), the host key pinned at registration, its
 * capacity (declared or detected), what is reserved for the host, its labels
 * and its last inventory.
 */
export const version = 1

export function up(db: Database): void {
  db.exec(`
    CREATE TABLE meta (
      key   TEXT PRIMARY KEY NOT NULL,
      value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE nodes (
      id                   TEXT PRIMARY KEY NOT NULL,
      name                 TEXT NOT NULL UNIQUE,
      host                 TEXT NOT NULL,            -- as given: 'local', an address or a ~/.ssh/config alias
      port                 INTEGER,                  -- as given (NULL: from ~/.ssh/config or 22)
      user                 TEXT,                     -- as given (NULL: from ~/.ssh/config or the current user)
      resolved_address     TEXT NOT NULL,            -- user@hostname:port it resolved to when added
      key_path             TEXT,
      sudo                 INTEGER NOT NULL DEFAULT 0 CHECK (sudo IN (0, 1)),
      runtime              TEXT NOT NULL CHECK (runtime IN ('podman', 'containerd')),
      host_key_algorithm   TEXT,
      host_key_fingerprint TEXT,
      host_key             TEXT,
      state                TEXT NOT NULL CHECK (state IN ('ready', 'cordoned', 'draining', 'suspect', 'down', 'unreachable')),
      labels               TEXT NOT NULL DEFAULT '{}', -- JSON object of strings
      declared             TEXT NOT NULL DEFAULT '{}', -- JSON: resources given with --resources
      cap_cpu_milli        INTEGER NOT NULL CHECK (cap_cpu_milli >= 0),
      cap_mem_bytes        INTEGER NOT NULL CHECK (cap_mem_bytes >= 0),
      cap_disk_bytes       INTEGER NOT NULL CHECK (cap_disk_bytes >= 0),
      cap_gpus             INTEGER NOT NULL CHECK (cap_gpus >= 0),
      res_cpu_milli        INTEGER NOT NULL DEFAULT 0 CHECK (res_cpu_milli >= 0),
      res_mem_bytes        INTEGER NOT NULL DEFAULT 0 CHECK (res_mem_bytes >= 0),
      res_disk_bytes       INTEGER NOT NULL DEFAULT 0 CHECK (res_disk_bytes >= 0),
      res_gpus             INTEGER NOT NULL DEFAULT 0 CHECK (res_gpus >= 0),
      inventory            TEXT NOT NULL,            -- JSON: the last hardware inventory
      inventoried_at       INTEGER NOT NULL,
      created_at           INTEGER NOT NULL,
      last_seen_at         INTEGER
    ) STRICT;
  `)
}

/** The `meta` table: small named values of the cluster (its id, the daemon's last pass). */
import type {Store} from './store.js'

export function readMeta(store: Store, key: string): string | undefined {
  const row = store.stmt(`SELECT value FROM meta WHERE key = ?`).get(key) as {value: string} | undefined
  return row?.value
}

export function writeMeta(store: Store, key: string, value: string): void {
  store.stmt(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(key, value)
}

/** Keeps only the `keep` greatest keys starting with `prefix` (keys that sort by time). */
export function pruneMetaPrefix(store: Store, prefix: string, keep: number): void {
  store.stmt(`DELETE FROM meta WHERE key LIKE ? || '%' AND key < (SELECT key FROM meta WHERE key LIKE ? || '%' ORDER BY key DESC LIMIT 1 OFFSET ?)`).run(prefix, prefix, keep - 1)
}

/** The first key (and its value) starting with `prefix` that sorts after `after`. */
export function firstMetaAfter(store: Store, prefix: string, after: string): {key: string; value: string} | undefined {
  return store.stmt(`SELECT key, value FROM meta WHERE key > ? AND key LIKE ? || '%' ORDER BY key LIMIT 1`).get(after, prefix) as {key: string; value: string} | undefined
}

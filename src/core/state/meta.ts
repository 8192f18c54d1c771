/** The `meta` table: small named values of the cluster (its id, the daemon's last pass). */
import type {Store} from './store.js'

export function readMeta(store: Store, key: string): string | undefined {
  const row = store.stmt(`SELECT value FROM meta WHERE key = ?`).get(key) as {value: string} | undefined
  return row?.value
}

export function writeMeta(store: Store, key: string, value: string): void {
  store.stmt(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(key, value)
}

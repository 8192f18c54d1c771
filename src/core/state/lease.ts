/** The controller lease: only one controller acts on the cluster at a time. */
import type {Store} from './store.js'

export interface LeaseHolder {
  holder: string
  kind: 'daemon' | 'command'
  pid: number
  hostname: string
}

export interface Lease extends LeaseHolder {
  name: string
  acquiredAt: number
  expiresAt: number
}

export type LeaseResult = {ok: true; lease: Lease} | {ok: false; current: Lease}

interface LeaseRow {
  name: string
  holder: string
  kind: 'daemon' | 'command'
  pid: number
  hostname: string
  acquired_at: number
  expires_at: number
}

const toLease = (r: LeaseRow): Lease => ({name: r.name, holder: r.holder, kind: r.kind, pid: r.pid, hostname: r.hostname, acquiredAt: r.acquired_at, expiresAt: r.expires_at})

export function currentLease(store: Store, name = 'controller'): Lease | undefined {
  const row = store.stmt(`SELECT * FROM leases WHERE name = ?`).get(name) as LeaseRow | undefined
  return row && row.expires_at > store.clock.now() ? toLease(row) : undefined
}

/**
 * Takes or renews the lease for `ttlMs`: granted when it is free, expired, or
 * already ours, or when `holderGone` says its holder no longer exists (a process of
 * this machine that was killed: no need to wait for the expiry). One BEGIN IMMEDIATE
 * transaction, so two contenders cannot both win.
 */
export function acquireLease(store: Store, who: LeaseHolder, ttlMs: number, options: {name?: string; holderGone?: (lease: Lease) => boolean} = {}): LeaseResult {
  const name = options.name ?? 'controller'
  return store.write(() => {
    const now = store.clock.now()
    const row = store.stmt(`SELECT * FROM leases WHERE name = ?`).get(name) as LeaseRow | undefined
    if (row && row.expires_at > now && row.holder !== who.holder && !options.holderGone?.(toLease(row))) return {ok: false, current: toLease(row)}
    const acquiredAt = row && row.holder === who.holder && row.expires_at > now ? row.acquired_at : now
    store
      .stmt(`INSERT INTO leases (name, holder, kind, pid, hostname, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, kind = excluded.kind, pid = excluded.pid, hostname = excluded.hostname, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`)
      .run(name, who.holder, who.kind, who.pid, who.hostname, acquiredAt, now + ttlMs)
    return {ok: true, lease: {name, ...who, acquiredAt, expiresAt: now + ttlMs}}
  })
}

/** Gives the lease back, if we still hold it. */
export function releaseLease(store: Store, holder: string, name = 'controller'): boolean {
  return store.write(() => store.stmt(`DELETE FROM leases WHERE name = ? AND holder = ?`).run(name, holder).changes === 1)
}

export function describeHolder(lease: Lease, now: number): string {
  return `${lease.kind === 'daemon' ? 'a daemon' : 'another clusterctl command'} (pid ${lease.pid} on ${lease.hostname}, lease until ${new Date(lease.expiresAt).toISOString()}, ${Math.max(0, Math.ceil((lease.expiresAt - now) / 1000))}s left)`
}

/**
 * Renews a held lease every ttl/3 while a long pass runs, so that a short TTL
 * (quick takeover after a kill -9) never lapses under a live holder. Returns the
 * function that stops renewing. `onLost` is told if someone else took it anyway.
 */
export function keepLease(store: Store, who: LeaseHolder, ttlMs: number, onLost: (current: Lease) => void = () => {}): () => void {
  const timer = setInterval(() => {
    try {
      const got = acquireLease(store, who, ttlMs)
      if (!got.ok) onLost(got.current)
    } catch {
      // The next renewal or the next pass will try again.
    }
  }, Math.max(100, Math.floor(ttlMs / 3)))
  timer.unref()
  return () => clearInterval(timer)
}

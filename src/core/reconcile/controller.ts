/**
 * Who converges the cluster: exactly one controller at a time, decided by the
 * `controller` lease (core/state/lease.ts).
 *
 * - A one-shot command (run, apply, scale, schedule, ...) takes the lease for its pass
 *   and gives it back. If another command holds it, it waits for it (passes are short).
 * - The daemon holds it for as long as it runs. A command that finds a daemon does not
 *   race it: it records its change (already done by the caller), waits for the
 *   daemon's next completed pass, and reports the outcome from the state file.
 */
import os from 'node:os'

import {FailedError} from '../errors.js'
import type {ServiceContext} from '../context.js'
import {listTasks} from '../state/jobs.js'
import {acquireLease, describeHolder, keepLease, type Lease, type LeaseHolder, releaseLease} from '../state/lease.js'
import {type PassOptions, runPass} from './pass.js'
import type {PassReport} from './report.js'

export const COMMAND_LEASE_TTL_MS = 120_000
const WAIT_FOR_COMMAND_MS = 60_000
const WAIT_FOR_DAEMON_MS = 60_000
const POLL_MS = 200

/**
 * A lease holder that was a process of this machine and no longer runs (kill -9):
 * its lease is taken over at once instead of after its expiry. Holders on other
 * machines (a shared state file) are only ever trusted to their expiry.
 */
export function holderGone(lease: Lease): boolean {
  if (lease.hostname !== os.hostname() || lease.pid === process.pid) return false
  try {
    process.kill(lease.pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

export function holderOf(ctx: Pick<ServiceContext, 'newId'>, kind: LeaseHolder['kind']): LeaseHolder {
  return {holder: ctx.newId(), kind, pid: process.pid, hostname: os.hostname()}
}

/** The meta key the daemon stamps after every completed pass, with the time that pass STARTED. */
export const DAEMON_PASS_KEY = 'daemon_pass_started_at'

export function recordDaemonPass(ctx: Pick<ServiceContext, 'store'>, at: number): void {
  ctx.store.write(() => ctx.store.stmt(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(DAEMON_PASS_KEY, String(at)))
}

function lastDaemonPass(ctx: Pick<ServiceContext, 'store'>): number {
  const row = ctx.store.stmt(`SELECT value FROM meta WHERE key = ?`).get(DAEMON_PASS_KEY) as {value: string} | undefined
  return row ? Number(row.value) : 0
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * One pass for a one-shot command, under the lease. With `dryRun` no lease is
 * needed (nothing is changed). With a daemon holding the lease: the daemon's next
 * completed pass, as seen in the state file (`daemon` is set in the report).
 */
export async function converge(ctx: ServiceContext, options: PassOptions & {leaveToDaemon?: boolean} = {}): Promise<PassReport> {
  if (options.dryRun) return runPass(ctx, options)
  const me = holderOf(ctx, 'command')
  const since = ctx.clock.now()
  const deadline = Date.now() + Math.max(WAIT_FOR_COMMAND_MS, WAIT_FOR_DAEMON_MS)
  for (;;) {
    const got = acquireLease(ctx.store, me, COMMAND_LEASE_TTL_MS, {holderGone})
    if (got.ok) break
    if (got.current.kind === 'daemon') {
      if (options.leaveToDaemon === false) {
        throw new FailedError(`The cluster is being converged by ${describeHolder(got.current, ctx.clock.now())}; this command would race it.`, {
          code: 'lease-held',
          hint: 'Leave it to the daemon (see `clusterctl events -f`), or stop the daemon first.',
        })
      }

      // The change is recorded: the daemon's next pass applies it. If the daemon dies
      // meanwhile, its lease lapses and this loop runs the pass itself.
      if (lastDaemonPass(ctx) > since) return daemonOutcome(ctx, got.current)
    }

    if (Date.now() > deadline) {
      throw new FailedError(`The change is recorded, but the cluster is being converged by ${describeHolder(got.current, ctx.clock.now())} and no pass completed within ${WAIT_FOR_COMMAND_MS / 1000}s.`, {
        code: 'lease-held',
        hint: 'Check the controller with `clusterctl events -f`, then run `clusterctl schedule`.',
      })
    }

    await sleep(POLL_MS)
  }

  const stopRenewing = keepLease(ctx.store, me, COMMAND_LEASE_TTL_MS)
  try {
    return await runPass(ctx, options)
  } finally {
    stopRenewing()
    releaseLease(ctx.store, me.holder)
  }
}

/** What a daemon's pass left: the report a command prints instead of its own pass. */
function daemonOutcome(ctx: ServiceContext, daemon: Lease): PassReport {
  const pending = listTasks(ctx.store, {live: true}).filter((t) => t.state === 'pending')
  return {
    dryRun: false,
    actions: [],
    pending: pending.map((t) => ({job: t.jobName, instance: t.instance, taskId: t.id, reason: t.reason ?? 'waiting to be placed', counts: (t.reasonData?.counts as Record<string, number> | undefined) ?? {}})),
    unobserved: [],
    nodes: [],
    backoff: [],
    unchanged: false,
    convergedBy: {pid: daemon.pid, hostname: daemon.hostname},
  }
}

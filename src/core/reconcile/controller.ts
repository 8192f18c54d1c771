/**
 * Who converges the cluster: exactly one controller at a time, decided by the
 * `controller` lease (core/state/lease.ts).
 *
 * - A one-shot command (run, apply, scale, schedule, ...) takes the lease for its pass
 *   and gives it back. If another command holds it, it waits for it (passes are short).
 * - The daemon holds it for as long as it runs. A command that finds a daemon does not
 *   race it: it records its change (already done by the caller), waits for the first
 *   daemon pass that started after it, and reports that pass's outcome (recorded in the
 *   state file by the daemon) as its own: the same output and exit code as its own pass.
 */
import os from 'node:os'

import {sleep} from '../async.js'
import {FailedError} from '../errors.js'
import type {ServiceContext} from '../context.js'
import {firstMetaAfter, pruneMetaPrefix, writeMeta} from '../state/meta.js'
import {acquireLease, describeHolder, keepLease, type Lease, type LeaseHolder, releaseLease} from '../state/lease.js'
import {type PassOptions, runPass} from './pass.js'
import type {PassReport} from './report.js'

export const COMMAND_LEASE_TTL_MS = 120_000
/** How long a command waits for the pass that applies its change, unless told (--timeout). */
export const DEFAULT_WAIT_MS = 60_000
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

/**
 * Every completed daemon pass is recorded in `meta` under `daemon_pass:<start time>`
 * (zero-padded, so keys sort by time) with its report; the last KEPT_DAEMON_PASSES stay.
 * A command that recorded a change at time T waits for the first pass that STARTED after
 * T (that pass read the change) and reports that pass's outcome as its own.
 */
const DAEMON_PASS_PREFIX = 'daemon_pass:'
const KEPT_DAEMON_PASSES = 50
const passKey = (at: number): string => `${DAEMON_PASS_PREFIX}${String(Math.max(0, Math.floor(at))).padStart(15, '0')}`

export function recordDaemonPass(ctx: Pick<ServiceContext, 'store'>, startedAt: number, report: PassReport): void {
  const {store} = ctx
  store.write(() => {
    writeMeta(store, passKey(startedAt), JSON.stringify(report))
    pruneMetaPrefix(store, DAEMON_PASS_PREFIX, KEPT_DAEMON_PASSES)
  })
}

/** The first recorded daemon pass that started after `since`, with its report. */
export function daemonPassAfter(ctx: Pick<ServiceContext, 'store'>, since: number): {startedAt: number; report: PassReport} | null {
  const row = firstMetaAfter(ctx.store, DAEMON_PASS_PREFIX, passKey(since))
  return row ? {startedAt: Number(row.key.slice(DAEMON_PASS_PREFIX.length)), report: JSON.parse(row.value) as PassReport} : null
}

export interface ConvergeOptions extends PassOptions {
  /** False: refuse to leave the change to a running daemon. */
  leaveToDaemon?: boolean
  /** How long to wait for the pass that applies the change (the daemon's, or the lease another command holds). Default 60 s. */
  waitMs?: number
}

/**
 * One pass for a one-shot command, under the lease. With `dryRun` no lease is
 * needed (nothing is changed). With a daemon holding the lease: the first pass of the
 * daemon that started after the change was recorded (so it applied it), with that
 * pass's report (`convergedBy` set): the command reports and exits by its outcome, as
 * it would have by its own pass.
 */
export async function converge(ctx: ServiceContext, options: ConvergeOptions = {}): Promise<PassReport> {
  const {leaveToDaemon, waitMs = DEFAULT_WAIT_MS, ...passOptions} = options
  if (passOptions.dryRun) return runPass(ctx, passOptions)
  const me = holderOf(ctx, 'command')
  const since = ctx.clock.now()
  const deadline = ctx.clock.now() + waitMs
  for (;;) {
    const got = acquireLease(ctx.store, me, COMMAND_LEASE_TTL_MS, {holderGone})
    if (got.ok) break
    if (got.current.kind === 'daemon') {
      if (leaveToDaemon === false) {
        throw new FailedError(`The cluster is being converged by ${describeHolder(got.current, ctx.clock.now())}; this command would race it.`, {
          code: 'lease-held',
          hint: 'Leave it to the daemon (see `clusterctl events -f`), or stop the daemon first.',
        })
      }

      // The change is recorded: the daemon's next pass applies it. If the daemon dies
      // meanwhile, its lease lapses and this loop runs the pass itself.
      const pass = daemonPassAfter(ctx, since)
      if (pass) return {...pass.report, convergedBy: {pid: got.current.pid, hostname: got.current.hostname, passStartedAt: pass.startedAt}}
    }

    if (ctx.clock.now() > deadline) {
      const by = got.current.kind === 'daemon' ? 'no pass of it started and completed' : 'it did not finish'
      throw new FailedError(`The change is recorded, but the cluster is being converged by ${describeHolder(got.current, ctx.clock.now())} and ${by} within ${formatWait(waitMs)}.`, {
        code: 'lease-held',
        hint: 'Wait longer with --timeout, check the controller with `clusterctl events -f`, or run `clusterctl schedule` to see what is pending.',
      })
    }

    await sleep(POLL_MS)
  }

  const stopRenewing = keepLease(ctx.store, me, COMMAND_LEASE_TTL_MS)
  try {
    return await runPass(ctx, passOptions)
  } finally {
    stopRenewing()
    releaseLease(ctx.store, me.holder)
  }
}

const formatWait = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`)

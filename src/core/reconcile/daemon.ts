/**
 * The daemon: the reconcile pass in a loop, as the one controller (it holds the
 * `controller` lease while it runs; a second daemon stands by until the lease is
 * free). Stops cleanly when `signal` aborts: the current pass finishes, the lease
 * is released. It never prints: lines go to `log`.
 */
import type {ServiceContext} from '../context.js'
import {collectGarbage, readRetention} from '../state/history.js'
import {acquireLease, describeHolder, keepLease, releaseLease} from '../state/lease.js'
import {holderGone, holderOf, recordDaemonPass} from './controller.js'
import {sleep} from '../async.js'
import {type PassOptions, runPass} from './pass.js'
import type {PassReport} from './report.js'

export interface DaemonOptions {
  intervalMs: number
  signal: AbortSignal
  /** One line per event worth telling: actions, changes of pending work, lease changes, failures. */
  log: (line: string) => void
  /** The lines that tell one pass (the command layer's presenter: core does not word reports). */
  passLines: (pass: PassReport) => string[]
  passOptions?: PassOptions
  /** Called after every completed pass (the dashboard will listen here). */
  onPass?: (pass: PassReport) => void
  /** How often old history is deleted (docs/history.md), with the saved settings; default 1 h, 0: never. */
  gcIntervalMs?: number
}

export const DEFAULT_GC_INTERVAL_MS = 3_600_000

/**
 * The daemon's SSH keepalive: a ping every second, the connection dead after two unanswered
 * (about 3 s of silence; ssh2 counts only ping replies, and a stalled event loop delays its
 * ping timer as much as the replies, so a busy controller does not kill live connections).
 * A host that crashes while its observation runs is then a miss in that pass (observe.ts),
 * not a listing left to its 10 s timeout. The pool's default (5 s x 3) suits one-shot commands.
 */
export const DAEMON_KEEPALIVE = Object.freeze({keepaliveIntervalMs: 1_000, keepaliveCountMax: 2})

export function leaseTtlFor(intervalMs: number): number {
  return Math.max(3 * intervalMs, 15_000)
}

export async function runDaemon(ctx: ServiceContext, options: DaemonOptions): Promise<void> {
  const me = holderOf(ctx, 'daemon')
  const ttl = leaseTtlFor(options.intervalMs)
  let acting = false
  let standbyReported = ''
  let lastPending = ''
  let lastUnobserved = ''
  let lastGcAt = -Infinity
  const gcEvery = options.gcIntervalMs ?? DEFAULT_GC_INTERVAL_MS
  options.log(`daemon started (pid ${me.pid} on ${me.hostname}), a pass every ${options.intervalMs / 1000}s`)
  try {
    while (!options.signal.aborted) {
      const got = acquireLease(ctx.store, me, ttl, {holderGone})
      if (!got.ok) {
        const who = `${got.current.kind} pid ${got.current.pid} on ${got.current.hostname}`
        if (standbyReported !== who) options.log(`standing by: the cluster is converged by ${describeHolder(got.current, ctx.clock.now())}`)
        standbyReported = who
        acting = false
        await sleep(options.intervalMs, options.signal)
        continue
      }

      standbyReported = ''
      if (!acting) options.log(`acting as the controller (lease renewed every ${Math.floor(ttl / 3000)}s; it lapses ${ttl / 1000}s after the last renewal)`)
      acting = true
      const passStartedAt = ctx.clock.now()
      const stopRenewing = keepLease(ctx.store, me, ttl, (other) => options.log(`lost the lease to ${describeHolder(other, ctx.clock.now())}`))
      try {
        const startedAt = ctx.clock.now()
        // The daemon judges heartbeats against each node's deadline (a one-shot pass is patient).
        const pass = await runPass(ctx, {...options.passOptions, observe: {...options.passOptions?.observe, patient: false}, drainWait: false})
        // The START of the completed pass: a command waits for a pass that began after its change.
        recordDaemonPass(ctx, startedAt, pass)
        for (const line of options.passLines(pass)) options.log(line)
        const pending = pass.pending.map((p) => `${p.job}.${p.instance}: ${p.reason}`).sort().join('\n')
        if (pending !== lastPending) {
          for (const line of pending.split('\n').filter(Boolean)) options.log(`pending ${line}`)
          if (pending === '' && lastPending !== '') options.log('nothing pending')
        }

        lastPending = pending
        const unobserved = pass.unobserved.map((u) => `${u.node}: ${u.error}`).sort().join('\n')
        if (unobserved !== lastUnobserved) for (const line of unobserved.split('\n').filter(Boolean)) options.log(`unreachable ${line}`)
        lastUnobserved = unobserved
        options.onPass?.(pass)
        if (gcEvery > 0 && ctx.clock.now() - lastGcAt >= gcEvery) {
          lastGcAt = ctx.clock.now()
          const gone = collectGarbage(ctx.store, lastGcAt, readRetention(ctx.store))
          if (gone.events + gone.tasks + gone.runs > 0) options.log(`history: deleted ${gone.events} events, ${gone.tasks} ended tasks, ${gone.runs} ended runs`)
        }
      } catch (error) {
        options.log(`pass failed: ${(error as Error).message}`)
      } finally {
        stopRenewing()
      }

      // Passes start every interval (a slow pass is followed at once by the next).
      await sleep(Math.max(0, passStartedAt + options.intervalMs - ctx.clock.now()), options.signal)
    }
  } finally {
    if (acting) releaseLease(ctx.store, me.holder)
    options.log(acting ? 'daemon stopped; lease released' : 'daemon stopped')
  }
}

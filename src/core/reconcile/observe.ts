/**
 * Runs one node's observation (observation.ts) through its transport and says what
 * it taught: the heartbeat outcome (with its latency), the containers, the health
 * check results.
 *
 * Two clocks, two errors:
 * - connecting (TCP, SSH handshake, authentication, jump hops) is bounded by
 *   `connectTimeoutMs`; a node that cannot be connected to misses its heartbeat with
 *   that error;
 * - the heartbeat deadline (`heartbeatTimeoutMs`, from the failure detector:
 *   detector.ts) runs from when the command was sent on an established connection
 *   (`onSent`), so a cold pool's handshake never eats into it.
 * The heartbeat is the first output line; the listing has its own, longer deadline
 * (`timeoutMs`): a node whose container runtime is slow is alive, only not observed
 * this pass. When a deadline timer fires late because the controller's event loop
 * was stalled, the miss is not counted (inconclusive).
 *
 * `patient` (one-shot commands: run, schedule, apply): no heartbeat deadline short of
 * the observation's own, so a node that answers at all is alive, however slow its
 * first round trip on a cold pool.
 *
 * A connection lost after the heartbeat (the pool's keepalive gave up on a silent host, or
 * the host closed it) is a miss: a host that crashes mid-observation is suspected in that
 * pass. A listing that is only slow (its own timeout) still counts the heartbeat.
 */
import {performance} from 'node:perf_hooks'

import {stderrTail, UnreachableError} from '../errors.js'
import type {Transport} from '../transport.js'
import type {ContainerRuntime} from '../../runtime/types.js'
import type {NodeObservation} from './diff.js'
import type {HeartbeatOutcome} from './heartbeat.js'
import {describeProbeExit, hasHeartbeat, type HealthProbe, type NodeHealthProbe, observeArgv, parseObservation} from './observation.js'

export interface ObserveOptions {
  /** No heartbeat line this long after the command was sent: a missed heartbeat. Default 1 500 ms (the pass passes the detector's deadline). */
  heartbeatTimeoutMs?: number
  /** How the deadline was reached, for the miss's message, e.g. "its usual 1.31s +- 0.08s". */
  deadlineBasis?: string
  /** Not connected (command not sent) within this long: a missed heartbeat, with the connect error. Default 6 000 ms. */
  connectTimeoutMs?: number
  /** The whole observation (listing and health checks). Default 10 s. */
  timeoutMs?: number
  /** A deadline timer that fires this much late means the controller was stalled. Default 1 000 ms. */
  stallToleranceMs?: number
  /** One-shot commands: any answer within `timeoutMs` counts; connecting is bounded by the pool's own timeout. */
  patient?: boolean
  /** The node's health probe, when due: it runs in the same round trip. */
  healthProbe?: NodeHealthProbe | null
  /** Directories of local volumes on the node to measure (du) in the same round trip. */
  volumePaths?: readonly string[]
}

export interface NodeObserveResult {
  outcome: HeartbeatOutcome
  observation: NodeObservation
  /** By task id. */
  probes: Map<string, {passed: boolean; message: string}>
  /** The health probe's output, when it was sent and came back. */
  healthProbe?: string | null
  /** Bytes used per measured volume path (ObserveOptions.volumePaths). */
  volumeUsage?: Map<string, number>
}

/** Errors that mean the host answered but would not let us in: unreachable rather than down. */
const REFUSALS = new Set(['refused', 'auth', 'host-key-changed', 'host-key-mismatch', 'host-key-revoked', 'key-not-found'])

export async function observeNode(transport: Transport, runtime: ContainerRuntime, selector: Record<string, string>, probes: readonly HealthProbe[], options: ObserveOptions = {}): Promise<NodeObserveResult> {
  const patient = options.patient === true
  const timeoutMs = options.timeoutMs ?? 10_000
  const heartbeatTimeoutMs = patient ? timeoutMs : options.heartbeatTimeoutMs ?? 1_500
  const connectTimeoutMs = options.connectTimeoutMs ?? 6_000
  const stallTolerance = options.stallToleranceMs ?? 1_000
  const abort = new AbortController()
  let heard = false
  let early = ''
  let lateBy = 0
  let sentAt: number | null = null
  let latencyMs: number | null = null
  let missed: string | null = null
  const arm = (ms: number, why: () => string): NodeJS.Timeout => {
    const armedAt = performance.now()
    return setTimeout(() => {
      lateBy = performance.now() - armedAt - ms
      if (heard) return
      missed = why()
      abort.abort(new Error(missed))
    }, ms)
  }

  const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : ms % 100 === 0 ? 1 : 2)}s`
  let heartbeatTimer: NodeJS.Timeout | undefined
  const connectTimer = patient ? undefined : arm(connectTimeoutMs, () => `could not connect within ${seconds(connectTimeoutMs)}`)
  const onSent = (): void => {
    if (sentAt !== null) return
    sentAt = performance.now()
    clearTimeout(connectTimer)
    heartbeatTimer = arm(heartbeatTimeoutMs, () => `no heartbeat within ${seconds(heartbeatTimeoutMs)} of sending${options.deadlineBasis ? ` (${options.deadlineBasis})` : ''}`)
  }

  const results = new Map<string, {passed: boolean; message: string}>()
  try {
    const result = await transport.exec(observeArgv(runtime.listArgv(selector), probes, options.healthProbe ?? null, runtime.listNetworksArgv?.(selector) ?? null, options.volumePaths ?? []), {
      timeoutMs,
      signal: abort.signal,
      onSent,
      onStdout: (chunk) => {
        if (heard) return
        early += chunk.toString('utf8')
        heard = hasHeartbeat(early)
        if (heard && sentAt !== null) latencyMs = performance.now() - sentAt
      },
    })
    const parsed = parseObservation(result.stdout)
    for (const [i, code] of parsed.health) {
      const probe = probes[i]
      if (probe) results.set(probe.taskId, {passed: code === 0, message: describeProbeExit(code, probe.timeoutMs)})
    }

    const outcome: HeartbeatOutcome = {kind: 'answered', usage: parsed.usage, latencyMs}
    const healthProbe = parsed.healthProbe
    const paths = options.volumePaths ?? []
    const volumeUsage = new Map([...parsed.volumes].filter(([i]) => paths[i] !== undefined).map(([i, bytes]) => [paths[i]!, bytes]))
    if (!parsed.listing || parsed.listing.code !== 0) {
      const why = stderrTail(result.stderr, {lines: 2, separator: ' ', max: Infinity}) || (parsed.listing ? `exit ${parsed.listing.code}` : `the observation ended early (exit ${result.code ?? result.signal})`)
      return {outcome, observation: {ok: false, complete: false, containers: [], error: `${runtime.name} did not list its containers: ${why}`}, probes: results, healthProbe}
    }

    const list = runtime.parseList(parsed.listing.stdout)
    if (!list.complete) return {outcome, observation: {ok: false, complete: false, containers: [], error: `the ${runtime.name} listing was incomplete or not understood`}, probes: results, healthProbe}
    return {outcome, observation: {ok: true, complete: true, containers: list.containers, ...(parsed.networks ? {networks: parsed.networks} : {})}, probes: results, healthProbe, volumeUsage}
  } catch (error) {
    const message = (error as Error).message
    if (heard && !(error instanceof UnreachableError && error.code === 'closed')) {
      const parsed = parseObservation(early)
      return {outcome: {kind: 'answered', usage: parsed.usage, latencyMs}, observation: {ok: false, complete: false, containers: [], error: `answered its heartbeat, but the observation failed: ${message}`}, probes: results}
    }

    if (heard) {
      // The connection died after the heartbeat (the pool's keepalive gave up, or the host closed it):
      // the latest word from the node is silence, so this is a miss, not an answer. Counted as an
      // answer, a host that crashed mid-observation would only be suspected a whole pass later.
      const error = `answered its heartbeat, then the connection was lost before the observation ended: ${message}`
      return {outcome: {kind: 'missed', refused: false, error}, observation: {ok: false, complete: false, containers: [], error}, probes: results}
    }

    let outcome: HeartbeatOutcome
    if (missed !== null) {
      outcome = lateBy > stallTolerance ? {kind: 'inconclusive', why: `the controller was stalled for ${Math.round(lateBy)} ms`} : {kind: 'missed', refused: false, error: missed}
    } else {
      outcome = {kind: 'missed', refused: error instanceof UnreachableError && REFUSALS.has(error.code), error: message}
    }

    return {outcome, observation: {ok: false, complete: false, containers: [], error: outcome.kind === 'missed' ? outcome.error : message}, probes: results}
  } finally {
    clearTimeout(connectTimer)
    clearTimeout(heartbeatTimer)
  }
}

/**
 * Runs one node's observation (observation.ts) through its transport and says what
 * it taught: the heartbeat outcome, the containers, the health check results.
 *
 * The heartbeat is the first output line. Its deadline is short (`heartbeatTimeoutMs`)
 * and separate from the listing's (`timeoutMs`): a node whose container runtime is
 * slow is alive, only not observed this pass. When the deadline timer itself fires
 * late because the controller's event loop was stalled, the miss is not counted
 * (inconclusive): a busy controller raises no false alarms.
 */
import {performance} from 'node:perf_hooks'

import {stderrTail, UnreachableError} from '../errors.js'
import type {Transport} from '../transport.js'
import type {ContainerRuntime} from '../../runtime/types.js'
import type {NodeObservation} from './diff.js'
import type {HeartbeatOutcome} from './heartbeat.js'
import {describeProbeExit, hasHeartbeat, type HealthProbe, observeArgv, parseObservation} from './observation.js'

export interface ObserveOptions {
  /** No heartbeat line within this long: a missed heartbeat. Default 1 500 ms. */
  heartbeatTimeoutMs?: number
  /** The whole observation (listing and health checks). Default 10 s. */
  timeoutMs?: number
  /** A deadline timer that fires this much late means the controller was stalled. Default 1 000 ms. */
  stallToleranceMs?: number
}

export interface NodeObserveResult {
  outcome: HeartbeatOutcome
  observation: NodeObservation
  /** By task id. */
  probes: Map<string, {passed: boolean; message: string}>
}

/** Errors that mean the host answered but would not let us in: unreachable rather than down. */
const REFUSALS = new Set(['refused', 'auth', 'host-key-changed', 'host-key-mismatch', 'host-key-revoked', 'key-not-found'])

export async function observeNode(transport: Transport, runtime: ContainerRuntime, selector: Record<string, string>, probes: readonly HealthProbe[], options: ObserveOptions = {}): Promise<NodeObserveResult> {
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 1_500
  const stallTolerance = options.stallToleranceMs ?? 1_000
  const abort = new AbortController()
  let heard = false
  let early = ''
  let lateBy = 0
  const armedAt = performance.now()
  const timer = setTimeout(() => {
    lateBy = performance.now() - armedAt - heartbeatTimeoutMs
    if (!heard) abort.abort(new Error('no heartbeat'))
  }, heartbeatTimeoutMs)
  const results = new Map<string, {passed: boolean; message: string}>()
  try {
    const result = await transport.exec(observeArgv(runtime.listArgv(selector), probes), {
      timeoutMs: options.timeoutMs ?? 10_000,
      signal: abort.signal,
      onStdout: (chunk) => {
        if (heard) return
        early += chunk.toString('utf8')
        heard = hasHeartbeat(early)
      },
    })
    const parsed = parseObservation(result.stdout)
    for (const [i, code] of parsed.health) {
      const probe = probes[i]
      if (probe) results.set(probe.taskId, {passed: code === 0, message: describeProbeExit(code, probe.timeoutMs)})
    }

    const outcome: HeartbeatOutcome = {kind: 'answered', usage: parsed.usage}
    if (!parsed.listing || parsed.listing.code !== 0) {
      const why = stderrTail(result.stderr, {lines: 2, separator: ' ', max: Infinity}) || (parsed.listing ? `exit ${parsed.listing.code}` : `the observation ended early (exit ${result.code ?? result.signal})`)
      return {outcome, observation: {ok: false, complete: false, containers: [], error: `${runtime.name} did not list its containers: ${why}`}, probes: results}
    }

    const list = runtime.parseList(parsed.listing.stdout)
    if (!list.complete) return {outcome, observation: {ok: false, complete: false, containers: [], error: `the ${runtime.name} listing was incomplete or not understood`}, probes: results}
    return {outcome, observation: {ok: true, complete: true, containers: list.containers}, probes: results}
  } catch (error) {
    const message = (error as Error).message
    if (heard) {
      const parsed = parseObservation(early)
      return {outcome: {kind: 'answered', usage: parsed.usage}, observation: {ok: false, complete: false, containers: [], error: `answered its heartbeat, but the observation failed: ${message}`}, probes: results}
    }

    let outcome: HeartbeatOutcome
    if (abort.signal.aborted) {
      outcome = lateBy > stallTolerance ? {kind: 'inconclusive', why: `the controller was stalled for ${Math.round(lateBy)} ms`} : {kind: 'missed', refused: false, error: `no heartbeat within ${heartbeatTimeoutMs / 1000}s`}
    } else {
      outcome = {kind: 'missed', refused: error instanceof UnreachableError && REFUSALS.has(error.code), error: message}
    }

    return {outcome, observation: {ok: false, complete: false, containers: [], error: outcome.kind === 'missed' ? outcome.error : message}, probes: results}
  } finally {
    clearTimeout(timer)
  }
}

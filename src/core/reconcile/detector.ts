/**
 * The failure detector: how long to wait for a node's heartbeat, judged against that
 * node's own history (docs/decisions/0007-accrual-failure-detector.md).
 *
 * A phi accrual detector (Hayashibara et al.; as in Cassandra and Akka) over the node's
 * recent heartbeat latencies: the time from sending the observation to its first output
 * line (the login shell's start-up plus the round trips). With mean m and standard
 * deviation s of those samples, the suspicion after waiting t is
 *
 *     phi(t) = -log10(P(latency > t)),  latency ~ Normal(m + pause, max(s, minStd))
 *
 * and the heartbeat is missed when phi reaches `phiThreshold`. That point, clamped to
 * [floor, ceiling], is the node's deadline. A node whose shell takes 1.3 s +- 0.1 s
 * gets about 2.4 s; a node answering in 20 ms gets the floor; a node with no history
 * yet gets the ceiling (it is not known: be patient). Pure: no clock, no I/O.
 */

export interface DetectorSettings {
  /** Suspicion at which a heartbeat counts as missed. 8 = a 1 in 10^8 chance that a node following its history is that late. */
  phiThreshold: number
  /** A spread below this is not believed (a node steady so far may still jitter). */
  minStdMs: number
  /** Added to the mean: a pause that is normal for any node (a GC, a busy moment). Akka's acceptable-heartbeat-pause. */
  acceptablePauseMs: number
  /** The shortest deadline, however fast the node has been. */
  floorMs: number
  /** The longest deadline, however slow the node has been; also the deadline of a node without history. */
  ceilingMs: number
  /** Samples kept per node. */
  windowSize: number
  /** Fewer samples than this: the node has no usable history (ceiling). */
  minSamples: number
}

export const DEFAULT_DETECTOR: Readonly<DetectorSettings> = Object.freeze({
  phiThreshold: 8,
  minStdMs: 100,
  acceptablePauseMs: 500,
  floorMs: 1_500,
  ceilingMs: 6_000,
  windowSize: 30,
  minSamples: 3,
})

export interface LatencyStats {
  samples: number
  lastMs: number | null
  meanMs: number | null
  stdMs: number | null
}

export interface HeartbeatDeadline extends LatencyStats {
  /** How long the next heartbeat may take before it is missed. */
  deadlineMs: number
  /** Why this deadline, in words: floor, ceiling, no history, or the node's figures. */
  basis: 'history' | 'floor' | 'ceiling' | 'no-history'
}

/** Appends a latency sample, keeping the newest `windowSize`. */
export function recordLatency(samples: readonly number[], latencyMs: number, windowSize = DEFAULT_DETECTOR.windowSize): number[] {
  if (!Number.isFinite(latencyMs) || latencyMs < 0) return [...samples]
  const next = [...samples, Math.round(latencyMs)]
  return next.length > windowSize ? next.slice(next.length - windowSize) : next
}

export function latencyStats(samples: readonly number[]): LatencyStats {
  if (samples.length === 0) return {samples: 0, lastMs: null, meanMs: null, stdMs: null}
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length
  const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length
  return {samples: samples.length, lastMs: samples.at(-1)!, meanMs: Math.round(mean), stdMs: Math.round(Math.sqrt(variance))}
}

/** phi after waiting `elapsedMs` for a node with these latency figures. */
export function phi(elapsedMs: number, meanMs: number, stdMs: number, settings: Pick<DetectorSettings, 'minStdMs' | 'acceptablePauseMs'> = DEFAULT_DETECTOR): number {
  const sigma = Math.max(stdMs, settings.minStdMs)
  const z = (elapsedMs - meanMs - settings.acceptablePauseMs) / sigma
  const tail = 0.5 * erfc(z / Math.SQRT2)
  return tail <= 0 ? Number.POSITIVE_INFINITY : -Math.log10(tail)
}

export function heartbeatDeadline(samples: readonly number[], settings: DetectorSettings = DEFAULT_DETECTOR): HeartbeatDeadline {
  const stats = latencyStats(samples)
  if (stats.samples < settings.minSamples || stats.meanMs === null || stats.stdMs === null) return {...stats, deadlineMs: settings.ceilingMs, basis: 'no-history'}
  const sigma = Math.max(stats.stdMs, settings.minStdMs)
  // phi is monotonic in t: solve phi(t) = threshold for the normal tail by bisection on z.
  let lo = 0
  let hi = 40
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2
    if (-Math.log10(0.5 * erfc(mid / Math.SQRT2)) < settings.phiThreshold) lo = mid
    else hi = mid
  }

  const raw = stats.meanMs + settings.acceptablePauseMs + hi * sigma
  if (raw <= settings.floorMs) return {...stats, deadlineMs: settings.floorMs, basis: 'floor'}
  if (raw >= settings.ceilingMs) return {...stats, deadlineMs: settings.ceilingMs, basis: 'ceiling'}
  return {...stats, deadlineMs: Math.round(raw), basis: 'history'}
}

/** Where a deadline came from, in words: "its usual 1.31s +- 0.08s over 30 heartbeats". */
export function describeBasis(d: HeartbeatDeadline): string {
  if (d.basis === 'no-history') return 'no latency history yet: the ceiling'
  const figures = `its usual ${secondsText(d.meanMs!)} +- ${secondsText(d.stdMs!)} over ${d.samples} heartbeat${d.samples === 1 ? '' : 's'}`
  return d.basis === 'history' ? figures : `the ${d.basis}; ${figures}`
}

/** "2.36s (its usual 1.31s +- 0.08s over 30 heartbeats)". */
export function describeDeadline(d: HeartbeatDeadline): string {
  return `${secondsText(d.deadlineMs)} (${describeBasis(d)})`
}

export function secondsText(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`
}

/** Complementary error function (Numerical Recipes' erfcc, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r =
    t *
    Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
  return x >= 0 ? r : 2 - r
}

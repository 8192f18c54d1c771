/**
 * Trends over a node's recent probe samples (pure): a least-squares line through a
 * filesystem's free space predicts when it is full (node_exporter's `predict_linear`
 * rule: full within the 24 h horizon is a warning before it is a failure).
 */
import type {Finding, HealthSample} from '../model/health.js'

export interface TrendSettings {
  /** Predictions further out than this are not findings. Default 24 h. */
  horizonMs: number
  /** Fewer samples than this say nothing. Default 4. */
  minSamples: number
  /** Samples spanning less than this say nothing. Default 2 min. */
  minSpanMs: number
}

export const DEFAULT_TREND: Readonly<TrendSettings> = Object.freeze({horizonMs: 24 * 3_600_000, minSamples: 4, minSpanMs: 2 * 60_000})

/** Least squares: the slope and intercept of y over x, or null when x does not vary. */
export function fitLine(points: ReadonlyArray<readonly [number, number]>): {slope: number; intercept: number} | null {
  const n = points.length
  if (n < 2) return null
  // Centre x first: epoch milliseconds squared lose precision in doubles.
  const mx = points.reduce((a, [x]) => a + x, 0) / n
  const my = points.reduce((a, [, y]) => a + y, 0) / n
  let sxx = 0
  let sxy = 0
  for (const [x, y] of points) {
    sxx += (x - mx) * (x - mx)
    sxy += (x - mx) * (y - my)
  }

  if (sxx === 0) return null
  const slope = sxy / sxx
  return {slope, intercept: my - slope * mx}
}

export interface FillPrediction {
  path: string
  /** Free bytes per hour (negative: filling). */
  ratePerHour: number
  /** When the line reaches zero free bytes (null: not filling). */
  fullAt: number | null
}

/** Per watched path of the latest sample: the fitted rate and when it is full. Samples oldest first. */
export function predictFill(samples: readonly HealthSample[], settings: TrendSettings = DEFAULT_TREND): FillPrediction[] {
  const latest = samples[samples.length - 1]
  if (!latest) return []
  const out: FillPrediction[] = []
  for (const fs of latest.filesystems) {
    const points: Array<[number, number]> = []
    for (const s of samples) {
      const f = s.filesystems.find((x) => x.path === fs.path)
      // A different filesystem at that path (a remount, a new disk) starts the series afresh.
      if (f?.freeBytes == null || f.sizeBytes !== fs.sizeBytes) continue
      points.push([s.at, f.freeBytes])
    }

    if (points.length < settings.minSamples || points[points.length - 1]![0] - points[0]![0] < settings.minSpanMs) continue
    const line = fitLine(points)
    if (!line) continue
    const fullAt = line.slope < 0 ? -line.intercept / line.slope : null
    out.push({path: fs.path, ratePerHour: line.slope * 3_600_000, fullAt: fullAt === null ? null : Math.max(latest.at, fullAt)})
  }

  return out
}

const duration = (ms: number): string => (ms < 3_600_000 ? `${Math.max(1, Math.round(ms / 60_000))} min` : `${(ms / 3_600_000).toFixed(ms < 10 * 3_600_000 ? 1 : 0)} h`)
const rate = (bytesPerHour: number): string => (Math.abs(bytesPerHour) >= 1024 ** 3 ? `${(Math.abs(bytesPerHour) / 1024 ** 3).toFixed(1)}Gi/h` : `${(Math.abs(bytesPerHour) / 1024 ** 2).toFixed(0)}Mi/h`)

/** The trend findings of a node's samples: a filesystem full within the horizon. */
export function trendFindings(samples: readonly HealthSample[], settings: TrendSettings = DEFAULT_TREND): Finding[] {
  const now = samples[samples.length - 1]?.at ?? 0
  const filling = predictFill(samples, settings).filter((p) => p.fullAt !== null && p.fullAt - now <= settings.horizonMs)
  if (filling.length === 0) return []
  // One filesystem can be watched under several paths: name each once, soonest first.
  filling.sort((a, b) => a.fullAt! - b.fullAt!)
  return [{type: 'DiskFilling', severity: 'warning', reason: 'PredictedFull', message: filling.map((p) => `${p.path} full in ~${duration(p.fullAt! - now)} (filling at ${rate(p.ratePerHour)})`).join('; ')}]
}

import {expect} from 'chai'
import fc from 'fast-check'

import {fitLine, predictFill, trendFindings} from '../../../../src/core/health/trend.js'
import type {HealthSample} from '../../../../src/core/model/health.js'
import {aSample} from './fixtures.js'

const Gi = 1024 ** 3
const MIN = 60_000
const T0 = Date.UTC(2026, 11, 2, 12, 0, 0)

function series(freeAt: (i: number) => number, n: number, stepMs = 30_000, size = 100 * Gi): HealthSample[] {
  return Array.from({length: n}, (_, i) => aSample({at: T0 + i * stepMs, filesystems: [{path: '/var/lib/containers', mount: '/var/lib/containers', fsType: 'xfs', sizeBytes: size, freeBytes: freeAt(i), inodes: null, inodesFree: null, readOnly: false}]}))
}

describe('core/health/trend', () => {
  it('fitLine: least squares through exact and noisy points, with epoch-sized x', () => {
    expect(fitLine([[T0, 10], [T0 + 1000, 12], [T0 + 2000, 14]])).to.deep.equal({slope: 0.002, intercept: 10 - 0.002 * T0})
    expect(fitLine([[1, 1]])).to.equal(null)
    expect(fitLine([[5, 1], [5, 2]])).to.equal(null)
    fc.assert(
      fc.property(fc.double({min: -1e6, max: 1e6, noNaN: true}), fc.double({min: -1e9, max: 1e9, noNaN: true}), (a, b) => {
        const pts = [0, 1, 2, 5, 9].map((i) => [T0 + i * MIN, a * i * MIN + b] as const)
        const line = fitLine(pts)!
        expect(line.slope).to.be.closeTo(a, Math.abs(a) * 1e-6 + 1e-6)
      }),
    )
  })

  it('a filesystem losing 1Gi a minute with 40Gi free is full in ~40 min; a steady one is not filling', () => {
    const filling = series((i) => 50 * Gi - (i / 2) * Gi, 21) // 30 s apart: 10 min, 40Gi free at the end
    const [p] = predictFill(filling)
    expect(p!.ratePerHour).to.be.closeTo(-60 * Gi, 1)
    expect(p!.fullAt! - filling[filling.length - 1]!.at).to.be.closeTo(40 * MIN, 1000)
    const found = trendFindings(filling)
    expect(found).to.deep.equal([{type: 'DiskFilling', severity: 'warning', reason: 'PredictedFull', message: '/var/lib/containers full in ~40 min (filling at 60.0Gi/h)'}])
    expect(trendFindings(series(() => 50 * Gi, 21))).to.deep.equal([])
  })

  it('says nothing with too few samples, too short a span, beyond the 24 h horizon, or across a resize', () => {
    expect(trendFindings(series((i) => 50 * Gi - i * Gi, 3))).to.deep.equal([])
    expect(trendFindings(series((i) => 50 * Gi - i * Gi, 10, 1000))).to.deep.equal([]) // 9 s of samples
    expect(trendFindings(series((i) => 50 * Gi - i * 1024 ** 2, 21))).to.deep.equal([]) // 50Gi at 2Mi/min: ~17 days
    const resized = [...series((i) => 1 * Gi - i * 100 * 1024 ** 2, 5, 30_000, 10 * Gi), ...series(() => 90 * Gi, 5, 30_000).map((s) => ({...s, at: s.at + 5 * 30_000}))]
    expect(trendFindings(resized)).to.deep.equal([])
  })
})

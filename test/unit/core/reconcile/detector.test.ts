import fs from 'node:fs'

import {expect} from 'chai'
import fc from 'fast-check'

import {DEFAULT_DETECTOR, describeDeadline, heartbeatDeadline, latencyStats, phi, recordLatency} from '../../../../src/core/reconcile/detector.js'
import {DEFAULT_HEARTBEAT, type HeartbeatOutcome, judgeHeartbeat} from '../../../../src/core/reconcile/heartbeat.js'
import type {Node, NodeState} from '../../../../src/core/model/node.js'

/**
 * Latency series recorded on real hosts (test/fixtures/latency/README.md): the time
 * from sending an observation to its heartbeat line, one per pass.
 */
const RECORDED = JSON.parse(fs.readFileSync(new URL('../../../fixtures/latency/series.json', import.meta.url), 'utf8')) as Record<string, {note: string; ms: number[]}>

const INTERVAL = 2_000
const DEAD = Number.POSITIVE_INFINITY

interface Simulated {
  transitions: Array<{at: number; to: NodeState}>
  /** When the node was first judged down, if ever. */
  downAt: number | null
  misses: number
}

/**
 * The daemon's loop on a fake clock, for one node: a pass every INTERVAL (or at once
 * after a slow one); each pass waits for the heartbeat up to the detector's deadline.
 * `latency(i, t)` is the node's latency in pass i starting at t (DEAD: never answers).
 */
function simulate(latency: (i: number, t: number) => number, passes: number, history: number[] = []): Simulated {
  type Rec = Pick<Node, 'state' | 'adminState' | 'missedHeartbeats' | 'heartbeatError' | 'lastSeenAt' | 'stateSince' | 'createdAt' | 'heartbeatLatencies'>
  let node: Rec = {state: 'ready', adminState: 'ready', missedHeartbeats: 0, heartbeatError: null, lastSeenAt: 0, stateSince: 0, createdAt: 0, heartbeatLatencies: history}
  const out: Simulated = {transitions: [], downAt: null, misses: 0}
  let t = 0
  for (let i = 0; i < passes; i++) {
    const deadline = heartbeatDeadline(node.heartbeatLatencies, DEFAULT_DETECTOR).deadlineMs
    const l = latency(i, t)
    const outcome: HeartbeatOutcome = l <= deadline ? {kind: 'answered', usage: null, latencyMs: l} : {kind: 'missed', refused: false, error: 'no heartbeat'}
    const ended = t + Math.min(l, deadline)
    if (outcome.kind === 'missed') out.misses++
    const {patch, transition} = judgeHeartbeat(node, outcome, ended, DEFAULT_HEARTBEAT)
    node = {...node, ...patch, heartbeatLatencies: patch.heartbeatLatencies ?? node.heartbeatLatencies}
    if (transition) out.transitions.push({at: ended, to: transition.to})
    if (transition?.to === 'down' && out.downAt === null) out.downAt = ended
    t = Math.max(t + INTERVAL, ended)
  }

  return out
}

describe('core/reconcile/detector', () => {
  it('keeps the newest samples, and states mean and spread', () => {
    let s: number[] = []
    for (let i = 1; i <= 40; i++) s = recordLatency(s, i * 10)
    expect(s).to.have.length(DEFAULT_DETECTOR.windowSize)
    expect(s[0]).to.equal(110)
    expect(recordLatency([1], Number.NaN)).to.deep.equal([1])
    expect(latencyStats([1000, 1200])).to.deep.equal({samples: 2, lastMs: 1200, meanMs: 1100, stdMs: 100})
  })

  it('a node without history gets the ceiling; a fast one the floor; a slow steady one its own deadline', () => {
    expect(heartbeatDeadline([]).basis).to.equal('no-history')
    expect(heartbeatDeadline([]).deadlineMs).to.equal(DEFAULT_DETECTOR.ceilingMs)
    expect(heartbeatDeadline([20, 25, 30, 22]).deadlineMs).to.equal(DEFAULT_DETECTOR.floorMs)
    const slow = heartbeatDeadline([1300, 1250, 1350, 1310, 1290])
    expect(slow.basis).to.equal('history')
    // mean 1.3 s + the 0.5 s pause + about 5.6 sigma of the 100 ms minimum spread
    expect(slow.deadlineMs).to.be.within(2_300, 2_400)
    expect(describeDeadline(slow)).to.match(/^2\.\d\ds \(its usual 1\.30s \+- 0\.03s over 5 heartbeats\)$/)
    expect(heartbeatDeadline([9_000, 9_100, 9_050]).basis).to.equal('ceiling')
  })

  it('phi grows with the wait, and the deadline is where it reaches the threshold', () => {
    const d = heartbeatDeadline([1300, 1250, 1350, 1310, 1290])
    expect(phi(1_300, 1_300, 37)).to.be.below(1)
    expect(phi(d.deadlineMs - 20, 1_300, 37)).to.be.below(DEFAULT_DETECTOR.phiThreshold)
    expect(phi(d.deadlineMs + 20, 1_300, 37)).to.be.above(DEFAULT_DETECTOR.phiThreshold)
  })

  it('property: the deadline stays within the floor and the ceiling, and never shrinks when the node gets slower', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({min: 0, max: 20_000}), {maxLength: 40}), fc.integer({min: 0, max: 5_000}), (samples, slower) => {
        const d = heartbeatDeadline(samples).deadlineMs
        expect(d).to.be.within(DEFAULT_DETECTOR.floorMs, DEFAULT_DETECTOR.ceilingMs)
        expect(heartbeatDeadline(samples.map((s) => s + slower)).deadlineMs).to.be.at.least(d)
      }),
    )
  })

  for (const [name, series] of Object.entries(RECORDED)) {
    it(`recorded series "${name}" (${series.note}): not one missed heartbeat, never down`, () => {
      const sim = simulate((i) => series.ms[i % series.ms.length]!, series.ms.length * 3)
      expect(sim.transitions, JSON.stringify(sim.transitions)).to.deep.equal([])
    })
  }

  it('property: a steady but slow node (any base up to 4 s, jitter up to 10 %) is never suspected, whatever its history', () => {
    fc.assert(
      fc.property(fc.integer({min: 0, max: 4_000}), fc.array(fc.double({min: -1, max: 1, noNaN: true}), {minLength: 20, maxLength: 200}), (base, jitter) => {
        const sim = simulate((i) => base + jitter[i % jitter.length]! * 0.1 * base, 200)
        expect(sim.transitions).to.deep.equal([])
      }),
    )
  })

  it('property: bursty (isolated spikes up to 3x the usual): suspect at worst, never down', () => {
    fc.assert(
      fc.property(fc.integer({min: 200, max: 1_600}), fc.array(fc.integer({min: 0, max: 60}), {maxLength: 6}), (base, spikes) => {
        const at = new Set(spikes.map((s) => 3 * s + 20))
        const sim = simulate((i) => (at.has(i) ? 3 * base : base), 240)
        expect(sim.downAt).to.equal(null)
      }),
    )
  })

  it('property: a dead node is down within interval + 2 deadlines of its crash (8 s for a 1.5 s shell)', () => {
    fc.assert(
      fc.property(fc.integer({min: 10, max: 1_500}), fc.integer({min: 10, max: 60}), fc.integer({min: 0, max: INTERVAL - 1}), (base, crashPass, offset) => {
        let crashAt = -1
        const sim = simulate((i, t) => {
          if (i < crashPass) return base
          if (crashAt < 0) crashAt = t - offset
          return DEAD
        }, crashPass + 20)
        const deadline = heartbeatDeadline(Array.from({length: 30}, () => base)).deadlineMs
        expect(sim.downAt).to.not.equal(null)
        const took = sim.downAt! - crashAt
        expect(took).to.be.at.most(Math.max(INTERVAL + 2 * deadline, DEFAULT_HEARTBEAT.downAfterMs + deadline))
        expect(took).to.be.at.most(8_000)
      }),
    )
  })

  it('recorded series, then dead: down within 8 s', () => {
    for (const series of Object.values(RECORDED)) {
      const n = series.ms.length
      const sim = simulate((i) => (i < n ? series.ms[i]! : DEAD), n + 10)
      let crashAt = 0
      for (let i = 0, t = 0; i <= n; i++) {
        if (i === n) crashAt = t
        else t = Math.max(t + INTERVAL, t + series.ms[i]!)
      }

      expect(sim.downAt! - crashAt).to.be.at.most(8_000)
    }
  })
})

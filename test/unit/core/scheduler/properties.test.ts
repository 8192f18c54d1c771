import {expect} from 'chai'
import fc from 'fast-check'

import {runSchedule} from '../../../../src/core/scheduler/engine.js'
import {schedule, scheduleNaive} from '../../../../src/core/scheduler/index.js'
import {NaiveSearch} from '../../../../src/core/scheduler/search.js'
import {arbCase, planProblems} from './fixtures.js'

const RUNS = 300

describe('core/scheduler properties', () => {
  it('indexed plans are valid: ready nodes only, no overcommit, ports unique and in range, constraints hold, pending explained', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const plan = schedule(c.snapshot, c.work, {seed: c.seed, portRange: c.portRange})
        expect(planProblems(c.snapshot, c.work, plan, c.portRange)).to.deep.equal([])
      }),
      {numRuns: RUNS},
    )
  })

  it('naive plans are valid by the same rules', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const plan = scheduleNaive(c.snapshot, c.work, {seed: c.seed, portRange: c.portRange})
        expect(planProblems(c.snapshot, c.work, plan, c.portRange)).to.deep.equal([])
      }),
      {numRuns: RUNS},
    )
  })

  it('the same seed gives the same plan; another seed still gives a valid one', () => {
    fc.assert(
      fc.property(arbCase, fc.integer({min: 0, max: 2 ** 31}), (c, other) => {
        const a = schedule(c.snapshot, c.work, {seed: c.seed, portRange: c.portRange})
        const b = schedule(c.snapshot, c.work, {seed: c.seed, portRange: c.portRange})
        expect(b).to.deep.equal(a)
        const d = schedule(c.snapshot, c.work, {seed: other, portRange: c.portRange})
        expect(planProblems(c.snapshot, c.work, d, c.portRange)).to.deep.equal([])
      }),
      {numRuns: RUNS / 2},
    )
  })

  it('never disagrees with the full scan on feasibility, decision by decision', () => {
    // Before each decision of the indexed run, the naive search looks at the same state:
    // the indexed search places exactly when the full scan finds a node, on a node the
    // full scan accepts (it may pick another of the feasible nodes).
    fc.assert(
      fc.property(arbCase, fc.constantFrom(1, 2, 8), (c, candidates) => {
        let naive: NaiveSearch | undefined
        runSchedule(c.snapshot, c.work, {seed: c.seed, portRange: c.portRange, candidates}, 'indexed', (state, d) => {
          naive ??= new NaiveSearch(state)
          const reference = naive.select(d.q)
          if (d.node < 0) expect(reference, `${d.task.taskId} left pending although node ${reference} fits`).to.equal(-1)
          else {
            expect(reference, `${d.task.taskId} placed where the full scan finds nothing`).to.be.at.least(0)
            expect(d.q.check(d.node), `${d.task.taskId} on a node the filters refuse`).to.equal(0)
          }
        })
      }),
      {numRuns: RUNS},
    )
  })

  it('places as many tasks as the full scan on clusters with room (no constraints)', () => {
    // With plenty of capacity both must place everything; a weaker, end-to-end form of the above.
    fc.assert(
      fc.property(arbCase, (c) => {
        const work = c.work.map((t) => ({...t, constraints: []}))
        const nodes = c.snapshot.nodes.map((n) => ({...n, allocatable: {...n.allocatable, cpuMilli: 1e6, memBytes: 1e15, gpus: 8}}))
        const snapshot = {nodes, placed: c.snapshot.placed}
        const fast = schedule(snapshot, work, {seed: c.seed})
        const slow = scheduleNaive(snapshot, work, {seed: c.seed})
        expect(fast.placements.length).to.equal(slow.placements.length)
      }),
      {numRuns: RUNS / 3},
    )
  })
})

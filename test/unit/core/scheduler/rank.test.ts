import {expect} from 'chai'
import fc from 'fast-check'

import {rankNodesFor, scheduleNaive} from '../../../../src/core/scheduler/index.js'
import {arbCase, Gi, node, res, task} from './fixtures.js'

describe('core/scheduler rankNodesFor', () => {
  it('lists feasible nodes best first and refused ones with a per-node reason', () => {
    const snapshot = {
      nodes: [node('a', {allocated: res(3000, 0)}), node('b'), node('c', {state: 'down'}), node('d', {allocated: res(0, 7.5 * Gi)})],
      placed: [],
    }
    const r = rankNodesFor(snapshot, task('t', {resources: res(500, Gi)}), {seed: 1})
    expect(r.feasible.map((n) => n.nodeName)).to.deep.equal(['a', 'b'])
    expect(r.feasible[0]!.strategy).to.be.greaterThan(r.feasible[1]!.strategy)
    expect(r.refused).to.deep.equal([
      {nodeId: 'id-c', nodeName: 'c', reason: 'node-down', text: 'down'},
      {nodeId: 'id-d', nodeName: 'd', reason: 'insufficient-mem', text: 'insufficient mem (need 1Gi, free 512Mi)'},
    ])
  })

  it('scores a running task on its node against the best other node', () => {
    // t runs on b (its resources are in b's allocated); a is fuller, so binpack gains by moving.
    const snapshot = {
      nodes: [node('a', {allocated: res(3000, 6 * Gi)}), node('b', {allocated: res(500, Gi), usedPorts: [31000]})],
      placed: [{taskId: 't', jobId: 'j', nodeId: 'id-b'}],
    }
    const t = task('t', {jobId: 'j', resources: res(500, Gi), ports: 1, constraints: [{field: 'hostname', operator: 'UNIQUE'}]})
    const r = rankNodesFor(snapshot, t, {seed: 1, current: {nodeId: 'id-b', hostPorts: [31000]}})
    expect(r.current).to.deep.include({feasible: true})
    expect(r.bestOther?.nodeName).to.equal('a')
    expect(r.gain).to.be.greaterThan(0)
    // Without giving its resources back, b would refuse the task on UNIQUE (its own instance).
    expect(rankNodesFor(snapshot, t, {seed: 1}).refused.map((n) => n.reason)).to.deep.equal(['constraint-unique'])
  })

  it('shows a preference that has become satisfiable', () => {
    const snapshot = {nodes: [node('a', {labels: {zone: 'x'}}), node('b', {labels: {zone: 'y'}, allocated: res(500, Gi)})], placed: []}
    const r = rankNodesFor(snapshot, task('t', {resources: res(500, Gi), preferences: [{field: 'zone', value: 'x'}]}), {seed: 1, current: {nodeId: 'id-b'}})
    expect(r.bestOther).to.deep.include({nodeName: 'a', preferences: 1})
    expect(r.current?.node).to.deep.include({nodeName: 'b'})
    expect(r.gain).to.be.greaterThan(0.5)
  })

  it('agrees with the full-scan scheduler: feasible = fits, first = its choice', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const t = c.work[0]!
        const r = rankNodesFor(c.snapshot, t, {seed: c.seed, portRange: c.portRange})
        expect(r.feasible.length + r.refused.length).to.equal(c.snapshot.nodes.length)
        const plan = scheduleNaive(c.snapshot, [t], {seed: c.seed, portRange: c.portRange})
        expect(r.feasible[0]?.nodeId).to.equal(plan.placements[0]?.nodeId)
      }),
      {numRuns: 200},
    )
  })
})

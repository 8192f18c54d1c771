import {expect} from 'chai'
import fc from 'fast-check'

import {schedule} from '../../../../src/core/scheduler/index.js'
import type {Plan, Snapshot, TaskRequest} from '../../../../src/core/scheduler/index.js'
import {arbCase, Gi, node, planProblems, res, task} from './fixtures.js'

/** Nodes the plan puts work on that held nothing before. */
function newNodesUsed(snapshot: Snapshot, plan: Plan): number {
  const busy = new Set(snapshot.placed.map((p) => p.nodeId))
  for (const n of snapshot.nodes) if (n.allocated.cpuMilli + n.allocated.memBytes + n.allocated.diskBytes + n.allocated.gpus > 0) busy.add(n.id)
  return new Set(plan.placements.map((p) => p.nodeId).filter((id) => !busy.has(id))).size
}

const cpuOnly = (cpu: number) => res(cpu, 0)
const bins = (count: number, cpu: number) => Array.from({length: count}, (_, i) => node(`n${i}`, {allocatable: res(cpu, 8 * Gi)}))
const items = (sizes: readonly number[], extra: Partial<TaskRequest> = {}) => sizes.map((s, i) => ({...task(`t${i}`, {jobId: `j${i}`, resources: cpuOnly(s)}), ...extra}))

describe('core/scheduler local improvement', () => {
  it('empties a node the greedy step opened: 5+4 | 3+3+3 | 2 becomes 5+3+2 | 4+3+3', () => {
    // Best fit decreasing fills the first node with 5 and 4, the second with three 3s,
    // and needs a third for the 2; the optimum is two full nodes.
    const snapshot = {nodes: bins(4, 10_000), placed: []}
    const work = items([5000, 4000, 3000, 3000, 3000, 2000])
    const greedy = schedule(snapshot, work, {seed: 1, improve: false})
    const improved = schedule(snapshot, work, {seed: 1})
    expect(planProblems(snapshot, work, improved)).to.deep.equal([])
    expect(newNodesUsed(snapshot, greedy)).to.equal(3)
    expect(newNodesUsed(snapshot, improved)).to.equal(2)
  })

  it('changes nothing when it saves no node: 6 2 5 1 5 6 4 7 needs 4 nodes either way, and keeps the greedy plan', () => {
    // Here the search finds swaps that fill some nodes without emptying one: they are undone.
    const snapshot = {nodes: bins(5, 10_000), placed: []}
    const work = items([6000, 2000, 5000, 1000, 5000, 6000, 4000, 7000])
    expect(schedule(snapshot, work, {seed: 1})).to.deep.equal(schedule(snapshot, work, {seed: 1, improve: false}))
  })

  it('moves only what may move: spread and UNIQUE tasks stay where the greedy step put them', () => {
    const snapshot = {nodes: bins(4, 10_000), placed: []}
    const work = [
      ...items([5000, 4000, 3000, 3000, 3000, 2000]),
      task('s', {jobId: 'spread', resources: cpuOnly(100), strategy: 'spread'}),
      task('u0', {jobId: 'uniq', instance: 0, resources: cpuOnly(100), constraints: [{field: 'hostname', operator: 'UNIQUE'}]}),
      task('u1', {jobId: 'uniq', instance: 1, resources: cpuOnly(100), constraints: [{field: 'hostname', operator: 'UNIQUE'}]}),
    ]
    const greedy = schedule(snapshot, work, {seed: 3, improve: false})
    const improved = schedule(snapshot, work, {seed: 3})
    expect(planProblems(snapshot, work, improved)).to.deep.equal([])
    const nodeOf = (plan: Plan, id: string) => plan.placements.find((p) => p.taskId === id)?.nodeId
    for (const id of ['s', 'u0', 'u1']) expect(nodeOf(improved, id), id).to.equal(nodeOf(greedy, id))
  })

  it('never lowers a task’s preference score', () => {
    const nodes = bins(4, 10_000).map((n, i) => ({...n, labels: {zone: i < 2 ? 'a' : 'b'}}))
    const snapshot = {nodes, placed: []}
    const work = items([5000, 4000, 3000, 3000, 3000, 2000], {preferences: [{field: 'zone', value: 'b'}]})
    const plan = schedule(snapshot, work, {seed: 5})
    expect(planProblems(snapshot, work, plan)).to.deep.equal([])
    for (const p of plan.placements) expect(['id-n2', 'id-n3']).to.include(p.nodeId)
  })

  it('never uses more new nodes than the greedy step, places as many tasks, gives valid plans, and changes nothing unless it saves a node', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const greedy = schedule(c.snapshot, c.work, {seed: c.seed, portRange: c.portRange, improve: false})
        const improved = schedule(c.snapshot, c.work, {seed: c.seed, portRange: c.portRange})
        expect(planProblems(c.snapshot, c.work, improved, c.portRange)).to.deep.equal([])
        expect(improved.placements.length).to.be.at.least(greedy.placements.length)
        if (improved.placements.length === greedy.placements.length) expect(newNodesUsed(c.snapshot, improved)).to.be.at.most(newNodesUsed(c.snapshot, greedy))
        // A search that saves no node leaves the greedy plan exactly as it was (nodes, ports, pending reasons).
        if (newNodesUsed(c.snapshot, improved) === newNodesUsed(c.snapshot, greedy)) expect(improved).to.deep.equal(greedy)
      }),
      {numRuns: 300},
    )
  })

  it('is seeded: the same arguments give the same plan', () => {
    const snapshot = {nodes: bins(30, 10_000), placed: []}
    const sizes = Array.from({length: 60}, (_, i) => 1500 + ((i * 7919) % 3000))
    const work = items(sizes)
    expect(schedule(snapshot, work, {seed: 9})).to.deep.equal(schedule(snapshot, work, {seed: 9}))
  })
})

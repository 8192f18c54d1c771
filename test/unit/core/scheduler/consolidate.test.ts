import {expect} from 'chai'
import fc from 'fast-check'

import {planConsolidation} from '../../../../src/core/scheduler/consolidate.js'
import type {RunningTask} from '../../../../src/core/scheduler/consolidate.js'
import type {Snapshot, TaskRequest} from '../../../../src/core/scheduler/index.js'
import {Gi, node, res, task} from './fixtures.js'

/** A cluster of `count` nodes of 10 cpus, running tasks of the given cpu sizes per node. */
function cluster(count: number, running: ReadonlyArray<readonly number[]>, extra: (i: number, k: number) => Partial<TaskRequest> = () => ({})): {snapshot: Snapshot; tasks: RunningTask[]} {
  const tasks: RunningTask[] = []
  running.forEach((sizes, i) => sizes.forEach((cpu, k) => tasks.push({request: {...task(`t${i}.${k}`, {jobId: `j${i}.${k}`, resources: res(cpu, 0)}), ...extra(i, k)}, nodeId: `id-n${i}`, hostPorts: []})))
  const nodes = Array.from({length: count}, (_, i) => node(`n${i}`, {allocatable: res(10_000, 8 * Gi), allocated: res((running[i] ?? []).reduce((a, b) => a + b, 0), 0)}))
  return {snapshot: {nodes, placed: tasks.map((t) => ({taskId: t.request.taskId, jobId: t.request.jobId, nodeId: t.nodeId}))}, tasks}
}

/** Replays the moves make-before-break (the target holds the task while the origin still does); returns the nodes used after, or an error. */
function replay(snapshot: Snapshot, tasks: readonly RunningTask[], moves: ReadonlyArray<{taskId: string; from: {nodeId: string}; to: {nodeId: string}}>): number {
  const used = new Map(snapshot.nodes.map((n) => [n.id, n.allocated.cpuMilli]))
  const at = new Map(tasks.map((t) => [t.request.taskId, t.nodeId]))
  const size = new Map(tasks.map((t) => [t.request.taskId, t.request.resources.cpuMilli]))
  for (const m of moves) {
    expect(at.get(m.taskId), `${m.taskId} moves from where it runs`).to.equal(m.from.nodeId)
    const cpu = size.get(m.taskId)!
    used.set(m.to.nodeId, used.get(m.to.nodeId)! + cpu)
    expect(used.get(m.to.nodeId), `${m.to.nodeId} overcommitted while ${m.taskId} moves`).to.be.at.most(10_000)
    used.set(m.from.nodeId, used.get(m.from.nodeId)! - cpu)
    at.set(m.taskId, m.to.nodeId)
  }
  return [...used.values()].filter((v) => v > 0).length
}

describe('core/scheduler consolidation', () => {
  it('frees a node of a cluster that grew 5+4 | 3+3+3 | 2, in moves make-before-break can follow', () => {
    const {snapshot, tasks} = cluster(4, [[5000, 4000], [3000, 3000, 3000], [2000]])
    const plan = planConsolidation(snapshot, tasks, {seed: 1})
    expect(plan.freed).to.have.length(1)
    expect(replay(snapshot, tasks, plan.moves)).to.equal(2)
    for (const m of plan.moves) expect(plan.freed.map((f) => f.nodeName)).to.include(m.frees.nodeName)
  })

  it('plans nothing when no node can be freed', () => {
    const {snapshot, tasks} = cluster(3, [[5000, 5000], [6000, 4000]])
    expect(planConsolidation(snapshot, tasks, {seed: 1})).to.deep.equal({freed: [], moves: []})
  })

  it('never moves a task that may not move (spread, UNIQUE), nor empties its node', () => {
    const {snapshot, tasks} = cluster(4, [[5000, 4000], [3000, 3000, 3000], [2000]], (i) => (i === 2 ? {strategy: 'spread'} : {}))
    const plan = planConsolidation(snapshot, tasks, {seed: 1})
    expect(plan.moves.map((m) => m.taskId)).not.to.include('t2.0')
    expect(plan.freed.map((f) => f.nodeName)).not.to.include('n2')
  })

  it('ordered moves never overcommit a node and always leave fewer nodes used', () => {
    const arbNode = fc.array(fc.integer({min: 1, max: 6}).map((x) => x * 700), {minLength: 1, maxLength: 4}).filter((xs) => xs.reduce((a, b) => a + b, 0) <= 10_000)
    fc.assert(
      fc.property(fc.array(arbNode, {minLength: 1, maxLength: 8}), fc.integer({min: 0, max: 2 ** 31}), (running, seed) => {
        const {snapshot, tasks} = cluster(running.length + 2, running)
        const before = running.length
        const plan = planConsolidation(snapshot, tasks, {seed})
        const after = replay(snapshot, tasks, plan.moves)
        if (plan.moves.length > 0) expect(after).to.be.below(before)
        else expect(plan.freed).to.deep.equal([])
      }),
      {numRuns: 200},
    )
  })
})

import {expect} from 'chai'

import {containerSpecHash} from '../../../../src/core/model/job.js'
import type {Job, Task} from '../../../../src/core/model/task.js'
import {constrainingTasks} from '../../../../src/core/reconcile/plan.js'
import {schedule} from '../../../../src/core/scheduler/schedule.js'
import type {Constraint} from '../../../../src/core/scheduler/types.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {instances, Mi, node, res, where} from '../scheduler/fixtures.js'

function aJob(op: Constraint['operator'], generation: number): Job {
  const spec = validateJobSpec({name: 'g', image: 'i', instances: 3, constraints: [`hostname:${op}`]}, 'test')
  return {id: 'job', name: 'g', kind: 'service', spec, specHash: containerSpecHash(spec, generation), instances: 3, generation, state: 'active', createdAt: 0, updatedAt: 0}
}

function aTask(id: string, nodeId: string, specHash: string, replaces: string | null = null): Task {
  return {
    id, jobId: 'job', jobName: 'g', instance: 0, nodeId, nodeName: nodeId, state: 'running', desired: 'run', health: 'unknown', healthFailures: 0, healthCheckedAt: null, healthMessage: null, replaces,
    containerName: `cctl-g-0-${id}`, hostPorts: [], specHash, reason: null, reasonData: null, restarts: 0, exitCode: null, createdAt: 0, updatedAt: 0, startedAt: 1, finishedAt: null,
  }
}

describe('core/reconcile constrainingTasks (constraints through a restart)', () => {
  for (const op of ['UNIQUE', 'GROUP_BY'] as const) {
    it(`a restarted 3-instance hostname:${op} job on 3 nodes places one replacement per node (the old tasks do not count)`, () => {
      const before = aJob(op, 0)
      const after = aJob(op, 1)
      const old = ['a', 'b', 'c'].map((n, i) => aTask(`o${i}`, `id-${n}`, before.specHash))
      const placed = constrainingTasks(old, new Map([['job', after]]))
      expect(placed).to.deep.equal([])
      const snapshot = {nodes: [node('a'), node('b'), node('c')], placed: placed.map((t) => ({taskId: t.id, jobId: t.jobId, nodeId: t.nodeId!}))}
      for (let seed = 0; seed < 10; seed++) {
        const plan = schedule(snapshot, instances('job', 3, {resources: res(100, 32 * Mi), constraints: after.spec.constraints}), {seed})
        expect(plan.pending, `seed ${seed}`).to.deep.equal([])
        expect(Object.values(where(plan, snapshot)).sort(), `seed ${seed}`).to.deep.equal(['a', 'b', 'c'])
      }
    })
  }

  it('the origin of a move or a drain does not count either; tasks of the current spec do', () => {
    const job = aJob('UNIQUE', 0)
    const origin = aTask('o', 'id-a', job.specHash)
    const other = aTask('x', 'id-b', job.specHash)
    const fresh = {...aTask('f', 'id-c', job.specHash, 'o'), state: 'pending' as const, nodeId: null}
    expect(constrainingTasks([origin, other], new Map([['job', job]]), [origin, other, fresh]).map((t) => t.id)).to.deep.equal(['x'])
    expect(constrainingTasks([origin, other], new Map([['job', job]])).map((t) => t.id)).to.deep.equal(['o', 'x'])
  })
})

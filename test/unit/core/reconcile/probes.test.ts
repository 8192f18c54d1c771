import {expect} from 'chai'

import {containerSpecHash} from '../../../../src/core/model/job.js'
import type {Job, Task} from '../../../../src/core/model/task.js'
import {healthProbes, readinessKey} from '../../../../src/core/reconcile/plan.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {aNode} from '../../ui/dashboard/fixtures.js'

const NOW = 1_750_000_000_000

describe('core/reconcile/plan healthProbes', () => {
  it('probes the health check and the readiness check of a running task, each when due, the readiness one keyed TASK#ready', () => {
    const spec = validateJobSpec({name: 'web', image: 'img', ports: [8080], healthCheck: {tcp: 8080, interval: '10s'}, readinessCheck: {http: '8080/ready', interval: '1s'}}, 'test')
    const job: Job = {id: 'j', name: 'web', kind: 'service', spec, specHash: containerSpecHash(spec), instances: 1, generation: 0, state: 'active', createdAt: 0, updatedAt: 0}
    const node = aNode('n1')
    const task = {id: 'task-1', jobId: 'j', jobName: 'web', instance: 0, nodeId: node.id, nodeName: 'n1', state: 'running', desired: 'run', health: 'healthy', healthFailures: 0, healthCheckedAt: NOW - 5_000, healthMessage: null, replaces: null, containerName: 'c1', hostPorts: [{containerPort: 8080, hostPort: 31000, protocol: 'tcp'}], specHash: job.specHash, reason: null, reasonData: null, restarts: 0, exitCode: null, createdAt: 0, updatedAt: 0, startedAt: 0, finishedAt: null, readinessCheckedAt: NOW - 2_000} as Task
    const probes = healthProbes([node], [task], new Map([['j', job]]), NOW).get(node.id)!
    expect(probes.map((p) => p.taskId)).to.deep.equal([readinessKey('task-1')])
    expect(probes[0]!.argv.join(' ')).to.include('31000').and.to.include('/ready')
    const both = healthProbes([node], [{...task, healthCheckedAt: NOW - 10_000}], new Map([['j', job]]), NOW).get(node.id)!
    expect(both.map((p) => p.taskId)).to.deep.equal(['task-1', 'task-1#ready'])
  })
})

import {expect} from 'chai'

import {containerSpecHash} from '../../../../src/core/model/job.js'
import type {Job, Task, TaskState} from '../../../../src/core/model/task.js'
import type {NodeObservation} from '../../../../src/core/reconcile/diff.js'
import {heldPorts} from '../../../../src/core/reconcile/ports.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import type {ObservedContainer} from '../../../../src/runtime/types.js'

const spec = validateJobSpec({name: 'web', image: 'img', ports: [0]}, 'test')
const job: Job = {id: 'job-web', name: 'web', kind: 'service', spec, specHash: containerSpecHash(spec), instances: 1, generation: 0, state: 'active', createdAt: 0, updatedAt: 0}

function aTask(id: string, nodeId: string, state: TaskState, hostPort: number, desired: Task['desired'] = 'run'): Task {
  return {
    id, jobId: job.id, jobName: job.name, instance: 0, nodeId, nodeName: nodeId, state, desired, health: 'unknown', healthFailures: 0, healthCheckedAt: null, healthMessage: null, replaces: null,
    containerName: `cctl-web-0-${id}`, hostPorts: [{containerPort: 0, hostPort, protocol: 'tcp'}], specHash: job.specHash, reason: null, reasonData: null,
    restarts: 0, exitCode: null, createdAt: 0, updatedAt: 0, startedAt: 1, finishedAt: null,
  }
}

const running = (name: string, hostPorts: number[], state: ObservedContainer['state'] = 'running'): ObservedContainer => ({name, id: name, state, exitCode: null, startedAt: 1, finishedAt: null, labels: {}, image: 'img', hostPorts})
const obs = (containers: ObservedContainer[], ok = true): NodeObservation => ({ok, complete: ok, containers})

describe('core/reconcile/ports heldPorts', () => {
  const nodes = [
    {id: 'a', resolvedAddress: 'root@10.0.0.5:22'},
    {id: 'b', resolvedAddress: 'admin@10.0.0.5:22'},
    {id: 'c', resolvedAddress: 'root@10.0.0.6:22'},
    {id: 'l1', resolvedAddress: 'local'},
    {id: 'l2', resolvedAddress: 'local'},
  ]

  it('counts every live placed task (one about to stop too), never a pending or ended one', () => {
    const tasks = [aTask('t1', 'c', 'running', 31000, 'stop'), aTask('t2', 'c', 'staging', 31001), aTask('t3', 'c', 'killed', 31002), {...aTask('t4', 'c', 'pending', 31003)}]
    expect(heldPorts(nodes, tasks, new Map()).get('c')).to.deep.equal([31000, 31001])
  })

  it('counts the ports of every container seen running, owned or not (an orphan, a node removed with --force); exited ones hold none', () => {
    const observed = new Map([['c', obs([running('cctl-old-0-x', [31005]), running('cctl-gone-0-y', [31006], 'exited')])]])
    expect(heldPorts(nodes, [], observed).get('c')).to.deep.equal([31005])
    // a node that did not answer teaches nothing
    expect(heldPorts(nodes, [], new Map([['c', obs([running('z', [31007])], false)]])).get('c')).to.deep.equal([])
  })

  it('nodes on one machine (one address, whatever the user; every `local`) share their ports', () => {
    const tasks = [aTask('t1', 'a', 'running', 31000), aTask('t2', 'l1', 'running', 31010)]
    const observed = new Map([['b', obs([running('cctl-x-0-z', [31001])])]])
    const held = heldPorts(nodes, tasks, observed)
    expect(held.get('a')).to.deep.equal([31000, 31001])
    expect(held.get('b')).to.deep.equal([31000, 31001])
    expect(held.get('c')).to.deep.equal([])
    expect(held.get('l2')).to.deep.equal([31010])
  })
})

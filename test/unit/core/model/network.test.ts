import {expect} from 'chai'
import fc from 'fast-check'

import {containerSpecHash} from '../../../../src/core/model/job.js'
import {CONTAINERD_NETWORK_REASON, networkAliases, networkNameProblem, unusedNetworks} from '../../../../src/core/model/network.js'
import type {Job, Task} from '../../../../src/core/model/task.js'
import {containerSpecOf, networkRemovals, requestOf} from '../../../../src/core/reconcile/plan.js'
import {JOB_NAME, validateJobSpec} from '../../../../src/core/spec/validate.js'

describe('core/model/network', () => {
  it('a network name is a DNS label, and none of podman\'s network modes', () => {
    for (const ok of ['backend', 'a', 'net-1', 'x'.repeat(63)]) expect(networkNameProblem(ok), ok).to.equal(null)
    for (const bad of ['', 'Backend', 'back_end', '-a', 'a-', 'x'.repeat(64), 'a b', 'ns:/run/netns/x']) expect(networkNameProblem(bad), bad).to.match(/is not a network name/)
    for (const mode of ['host', 'none', 'bridge', 'podman', 'private', 'slirp4netns', 'pasta', 'container']) expect(networkNameProblem(mode), mode).to.match(/network mode of podman/)
  })

  it('an instance answers as JOB-INSTANCE and JOB', () => {
    expect(networkAliases('web', 0)).to.deep.equal(['web-0', 'web'])
    expect(networkAliases('db', 12)).to.deep.equal(['db-12', 'db'])
  })

  it('unused networks: found, less those in use (property: never one in use, every one not in use)', () => {
    expect(unusedNetworks(['a', 'b', 'c'], ['b', undefined, 'x'])).to.deep.equal(['a', 'c'])
    const name = fc.stringMatching(JOB_NAME)
    fc.assert(
      fc.property(fc.array(name, {maxLength: 6}), fc.array(fc.option(name, {nil: undefined}), {maxLength: 6}), (found, inUse) => {
        const out = unusedNetworks(found, inUse)
        for (const n of out) expect(inUse).not.to.include(n)
        for (const n of found) if (!inUse.includes(n)) expect(out).to.include(n)
        expect(new Set(out).size).to.equal(out.length)
      }),
    )
  })
})

describe('core/reconcile/plan: networks', () => {
  const job = (network?: string): Job => {
    const spec = validateJobSpec({name: 'web', image: 'localhost/app:1', ...(network ? {network} : {})}, 'test')
    return {id: 'job-web', name: 'web', kind: 'service', spec, specHash: containerSpecHash(spec), instances: 1, generation: 0, state: 'active', createdAt: 0, updatedAt: 0}
  }
  const task = {id: 't1', jobId: 'job-web', instance: 3, containerName: 'cctl-web-3-t1'} as Task

  it('a job on a network asks the scheduler for podman nodes (saying why); its container joins the network as web-3 and web', () => {
    expect(requestOf(task, job('backend')).constraints).to.deep.equal([{field: 'runtime', operator: 'IS', value: 'podman', because: CONTAINERD_NETWORK_REASON}])
    expect(requestOf(task, job()).constraints).to.deep.equal([])
    expect(containerSpecOf(task, job('backend'), 'c1', []).network).to.deep.equal({name: 'backend', aliases: ['web-3', 'web']})
    expect(containerSpecOf(task, job(), 'c1', [])).not.to.have.property('network')
  })

  it('networkRemovals: per machine, only from a whole observation, never one a container (not removed this pass) or a live task there uses', () => {
    const jobs = new Map([['job-web', job('backend')]])
    const container = (name: string, networks: string[]) => ({name, id: name, state: 'running' as const, exitCode: null, startedAt: null, finishedAt: null, labels: {}, image: 'i', networks})
    const obs = (networks: string[], containers = [container('x', ['data'])]) => ({ok: true, complete: true, containers, networks})
    const live = {...task, nodeId: 'n1', state: 'running'} as Task
    expect(networkRemovals([{nodeIds: ['n1'], observation: obs(['backend', 'data', 'old'])}], [live], jobs, new Set())).to.deep.equal([{nodeId: 'n1', network: 'old'}])
    expect(networkRemovals([{nodeIds: ['n1'], observation: obs(['data'])}], [], jobs, new Set(['x']))).to.deep.equal([{nodeId: 'n1', network: 'data'}])
    expect(networkRemovals([{nodeIds: ['n2', 'n1'], observation: obs(['backend'], [])}], [live], jobs, new Set()), 'a task on another name of the machine').to.deep.equal([])
    expect(networkRemovals([{nodeIds: ['n1'], observation: obs(['backend'], [])}], [{...live, state: 'killed'} as Task], jobs, new Set())).to.deep.equal([{nodeId: 'n1', network: 'backend'}])
    expect(networkRemovals([{nodeIds: ['n1'], observation: {...obs(['old']), complete: false}}], [], jobs, new Set())).to.deep.equal([])
  })
})

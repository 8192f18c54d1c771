import {expect} from 'chai'

import {planAutoDrain} from '../../../../src/core/reconcile/auto-drain.js'
import type {NodeCondition} from '../../../../src/core/model/health.js'
import {aJob, aNode, aTask, Gi} from '../../ui/dashboard/fixtures.js'

const smart: NodeCondition = {type: 'SMARTFailing', severity: 'critical', reason: 'HealthCheckFailed', message: '/dev/sda: SMART overall-health self-assessment FAILED', since: 0, lastSeen: 0}
const disk: NodeCondition = {type: 'DiskPressure', severity: 'warning', reason: 'LowDiskSpace', message: '/ 5% free', since: 0, lastSeen: 0}

describe('core/reconcile/auto-drain', () => {
  const web = aJob('web', {instances: 3})

  it('drains a node with a critical condition when what-if says its work fits; warnings never drain', () => {
    const nodes = [aNode('h1', {conditions: [smart]}), aNode('h2', {conditions: [disk]}), aNode('h3')]
    const tasks = [aTask(web, 0, 'h1'), aTask(web, 1, 'h2'), aTask(web, 2, 'h3')]
    expect(planAutoDrain({nodes, jobs: [web], tasks, seed: 1})).to.deep.equal({kind: 'drain', node: 'h1', why: 'SMARTFailing (HealthCheckFailed): /dev/sda: SMART overall-health self-assessment FAILED; what-if: its 1 task(s) fit elsewhere'})
    expect(planAutoDrain({nodes: [aNode('h1', {conditions: [disk]}), aNode('h2')], jobs: [web], tasks, seed: 1})).to.equal(null)
  })

  it('only cordons, saying why, when the work would not fit; a cordoned node drains once it fits; one node at a time', () => {
    const big = aJob('big', {instances: 1, cpuMilli: 3000, memBytes: 6 * Gi})
    const tasks = [aTask(big, 0, 'h1'), aTask(big, 0, 'h2', {id: 'other'})]
    const nodes = [aNode('h1', {conditions: [smart]}), aNode('h2')]
    const d = planAutoDrain({nodes, jobs: [big], tasks, seed: 1})!
    expect(d.kind).to.equal('cordon')
    expect(d.why).to.match(/not drained: what-if says 1 task\(s\) would not fit elsewhere \(big\.0: 0\/1 nodes fit: 1 insufficient cpus/)
    // Already cordoned, still no room: nothing new (no event every pass).
    const cordoned = [aNode('h1', {conditions: [smart], adminState: 'cordoned', state: 'cordoned'}), aNode('h2')]
    expect(planAutoDrain({nodes: cordoned, jobs: [big], tasks, seed: 1})).to.equal(null)
    // Room appears (a third node): drained.
    expect(planAutoDrain({nodes: [...cordoned, aNode('h3')], jobs: [big], tasks, seed: 1})).to.deep.include({kind: 'drain', node: 'h1'})
    // A drain under way elsewhere: wait.
    expect(planAutoDrain({nodes: [...nodes, aNode('h3', {adminState: 'draining', state: 'draining'})], jobs: [big], tasks, seed: 1})).to.equal(null)
  })

  it('a critical node that runs nothing is cordoned once', () => {
    expect(planAutoDrain({nodes: [aNode('h1', {conditions: [smart]})], jobs: [], tasks: [], seed: 1})).to.deep.include({kind: 'cordon', node: 'h1'})
    expect(planAutoDrain({nodes: [aNode('h1', {conditions: [smart], adminState: 'cordoned', state: 'cordoned'})], jobs: [], tasks: [], seed: 1})).to.equal(null)
  })

  it('never drains a node that holds a task\'s local volume (it would stop until the node returns): only cordons it, saying so', () => {
    const db = {...aJob('db', {instances: 1}), spec: {...aJob('db').spec, volumes: [{source: 'data', target: '/data', readOnly: false, local: {sizeBytes: Gi}}]}}
    const volumes = [{id: 'v', name: 'data-0', kind: 'local' as const, jobId: db.id, jobName: 'db', instance: 0, nodeId: 'node-h1', nodeName: 'h1', sizeBytes: Gi, usedBytes: null, usedAt: null, nfs: null, createdAt: 0, updatedAt: 0}]
    const nodes = [aNode('h1', {conditions: [smart]}), aNode('h2')]
    const d = planAutoDrain({nodes, jobs: [db], tasks: [aTask(db, 0, 'h1')], volumes, seed: 1})!
    expect(d.kind).to.equal('cordon')
    expect(d.why).to.match(/not drained: 1 task\(s\) keep their data on it and would stop until it returns \(db\.0: volume data-0\); `clusterctl node drain h1` does it by hand$/)
  })
})


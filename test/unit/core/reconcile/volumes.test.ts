import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {containerSpecHash} from '../../../../src/core/model/job.js'
import type {Job, Task} from '../../../../src/core/model/task.js'
import type {Volume} from '../../../../src/core/model/volume.js'
import {containerSpecOf, planPlacements, pendingTask} from '../../../../src/core/reconcile/plan.js'
import {blockedReason, sameBlock, volumePlacement, volumesToRecord, withVolumeReservations} from '../../../../src/core/reconcile/volumes.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {observeArgv, parseObservation} from '../../../../src/core/reconcile/observation.js'
import {aNode, Gi, NOW} from '../../ui/dashboard/fixtures.js'

function stateful(instances = 2, size = '10Gi'): Job {
  const spec = validateJobSpec({name: 'db', image: 'i', instances, volumes: [{name: 'data', mount: '/data', source: {local: {size}}}, '/srv/conf:/conf:ro']}, 'test')
  return {id: 'job-db', name: 'db', kind: 'service', spec, specHash: containerSpecHash(spec), instances, generation: 0, state: 'active', servicePort: null, createdAt: 0, updatedAt: 0}
}

function aVolume(name: string, nodeId: string | null, sizeBytes = 10 * Gi): Volume {
  return {id: `${name}-0123456789`, name, kind: 'local', jobId: 'job-db', jobName: 'db', instance: Number(name.split('-').pop()), nodeId, nodeName: null, sizeBytes, usedBytes: null, usedAt: null, nfs: null, createdAt: 0, updatedAt: 0}
}

let ids = 0
const pending = (job: Job, instance: number): Task => pendingTask(job, instance, 0, null, {id: `t${instance}-${ids++}`, cluster: 'c', now: NOW})

describe('core/reconcile volumes (pinned local volumes)', () => {
  it('a task goes only to the node holding its volume; with no volume yet, anywhere with room for its size', () => {
    const job = stateful()
    const nodes = ['n1', 'n2', 'n3'].map((n) => aNode(n))
    const volumes = new Map([['data-0', aVolume('data-0', 'node-n3')]])
    const tasks = [pending(job, 0), pending(job, 1)]
    const vp = volumePlacement(tasks, new Map([[job.id, job]]), volumes, new Map(nodes.map((n) => [n.id, n])), NOW)
    expect(vp.pins.get(tasks[0]!.id)).to.deep.equal({field: 'hostname', operator: 'IS', value: 'n3'})
    expect(vp.extraDisk.get(tasks[1]!.id)).to.equal(10 * Gi)
    for (let seed = 0; seed < 20; seed++) {
      const {placed} = planPlacements({pending: tasks, pins: new Map(), schedulable: nodes, holding: [], jobsById: new Map([[job.id, job]]), recentFailures: new Map(), seed, volumes: vp})
      expect(placed.find((p) => p.task.instance === 0)?.node, `seed ${seed}`).to.equal('node-n3')
      expect(placed).to.have.length(2)
    }
  })

  it('blocked, never moved, while the node holding its volume is down: the reason names the volume, the node and how long', () => {
    const job = stateful()
    const nodes = [aNode('n1'), aNode('n2'), aNode('n3', {state: 'down', stateSince: NOW - 4 * 60_000})]
    const task = pending(job, 0)
    const vp = volumePlacement([task], new Map([[job.id, job]]), new Map([['data-0', aVolume('data-0', 'node-n3')]]), new Map(nodes.map((n) => [n.id, n])), NOW)
    expect(vp.blocked.get(task.id)).to.equal('blocked: volume data-0 is on n3 (down 4m)')
    const {plan, placed} = planPlacements({pending: [task], pins: new Map(), schedulable: nodes, holding: [], jobsById: new Map([[job.id, job]]), recentFailures: new Map(), seed: 1, volumes: vp})
    expect(placed).to.deep.equal([])
    expect(plan.pending.map((p) => p.reason)).to.deep.equal(['blocked: volume data-0 is on n3 (down 4m)'])
    expect(sameBlock('blocked: volume data-0 is on n3 (down 4m)', 'blocked: volume data-0 is on n3 (down 5m)')).to.equal(true)
    expect(sameBlock('blocked: volume data-0 is on n3 (suspect 4s)', 'blocked: volume data-0 is on n3 (down 1s)')).to.equal(false)
    expect(sameBlock(null, 'blocked: volume data-0 is on n3 (down 1s)')).to.equal(false)
    expect(blockedReason('data-0', undefined, NOW)).to.match(/no longer in the cluster .*volume forget data-0 --new-empty/)
  })

  it('a volume\'s size stays reserved on its node\'s disk: a task that needs more than is left goes elsewhere', () => {
    const job = stateful(1, '60Gi')
    const nodes = [aNode('n1'), aNode('n2')]
    // n1 holds another job's 50Gi volume (its job scaled to 0): 100Gi - 50Gi leaves no room for 60Gi
    const reserved = withVolumeReservations(nodes, [{...aVolume('other-0', 'node-n1', 50 * Gi), jobId: 'job-other'}])
    expect(reserved[0]!.reserved.diskBytes).to.equal(50 * Gi)
    expect(reserved[1]!.reserved.diskBytes).to.equal(0)
    for (let seed = 0; seed < 20; seed++) {
      const task = pending(job, 0)
      const vp = volumePlacement([task], new Map([[job.id, job]]), new Map(), new Map(nodes.map((n) => [n.id, n])), NOW)
      const {placed} = planPlacements({pending: [task], pins: new Map(), schedulable: reserved, holding: [], jobsById: new Map([[job.id, job]]), recentFailures: new Map(), seed, volumes: vp})
      expect(placed.map((p) => p.node), `seed ${seed}`).to.deep.equal(['node-n2'])
    }
  })

  it('a placement records a new volume on its node, or gives a known one its first node; the container mounts its directory', () => {
    const job = stateful()
    let n = 0
    const newId = (): string => `id${n++}-abcdef`
    const created = volumesToRecord({instance: 1}, job, 'node-n2', new Map(), newId, NOW)
    expect(created.map((v) => [v.name, v.kind, v.nodeId, v.sizeBytes, v.instance])).to.deep.equal([['data-1', 'local', 'node-n2', 10 * Gi, 1]])
    expect(volumesToRecord({instance: 0}, job, 'node-n2', new Map([['data-0', aVolume('data-0', null)]]), newId, NOW).map((v) => v.nodeId)).to.deep.equal(['node-n2'])
    expect(volumesToRecord({instance: 0}, job, 'node-n2', new Map([['data-0', aVolume('data-0', 'node-n3')]]), newId, NOW)).to.deep.equal([])
    const task = {...pending(job, 1), containerName: 'cctl-db-1'}
    const spec = containerSpecOf(task, job, 'c', [], {}, new Map([['data-1', created[0]!]]))
    expect(spec.volumes).to.deep.equal([
      {source: '/var/lib/clusterctl/volumes/data-1-id0-abcdef', target: '/data', readOnly: false, create: true},
      {source: '/srv/conf', target: '/conf', readOnly: true},
    ])
  })

  it('the observation measures the local volumes it is given (du, in the same round trip); a directory not made yet is left out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cctl-du-'))
    try {
      mkdirSync(join(dir, 'a'))
      writeFileSync(join(dir, 'a', 'f'), Buffer.alloc(300 * 1024, 1))
      const argv = observeArgv(['echo', '[]'], [], null, null, [join(dir, 'a'), join(dir, 'missing')])
      const parsed = parseObservation(execFileSync(argv[0]!, argv.slice(1), {encoding: 'utf8'}))
      expect([...parsed.volumes.keys()]).to.deep.equal([0])
      expect(parsed.volumes.get(0)).to.be.within(300 * 1024, 400 * 1024)
      expect(parsed.listing?.code).to.equal(0)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

import {expect} from 'chai'
import path from 'node:path'

import {ManualClock} from '../../../../src/core/clock.js'
import {FailedError, NotFoundError, UserError} from '../../../../src/core/errors.js'
import {drainPreview, waitingLine, whatIfDown, whatIfEachNode} from '../../../../src/core/services/what-if.js'
import {insertJob, insertTask} from '../../../../src/core/state/jobs.js'
import {insertNode} from '../../../../src/core/state/nodes.js'
import {insertVolume} from '../../../../src/core/state/volumes.js'
import type {Job} from '../../../../src/core/model/task.js'
import {Store} from '../../../../src/core/state/store.js'
import {makeTempDir} from '../../../helpers/tmp.js'
import {aJob, aNode, aTask, Gi, NOW} from '../../ui/dashboard/fixtures.js'

describe('core/services/what-if (over a real state file)', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: Store

  beforeEach(() => {
    tmp = makeTempDir()
    store = Store.open(path.join(tmp.dir, 'state.db'), new ManualClock(NOW))
    const big = aJob('big', {instances: 1, cpuMilli: 3000, memBytes: 6 * Gi})
    const web = aJob('web', {instances: 1})
    store.write(() => {
      for (const n of ['h1', 'h2']) insertNode(store, aNode(n))
      insertJob(store, big)
      insertJob(store, web)
      insertTask(store, {...aTask(big, 0, 'h1'), nodeId: 'node-h1'})
      insertTask(store, {...aTask(big, 0, 'h2', {id: 'big-twin'}), instance: 1, nodeId: 'node-h2'})
      insertTask(store, aTask(web, 0, 'h2'))
    })
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  it('--down: refuses no names and unknown ones; --n-1: one answer per node', () => {
    expect(() => whatIfDown({store}, [])).to.throw(UserError)
    expect(() => whatIfDown({store}, ['nope'])).to.throw(NotFoundError)
    expect(whatIfDown({store}, ['h1'])).to.deep.include({fits: false})
    expect(whatIfEachNode({store}).map((r) => [r.down[0], r.fits])).to.deep.equal([['h1', false], ['h2', false]])
  })

  it('node drain is refused (exit 1, code would-not-fit) when the work would not fit, with the what-if and --force in the hint', () => {
    try {
      drainPreview({store}, 'h1')
      expect.fail('expected a refusal')
    } catch (error) {
      expect(error).to.be.instanceOf(FailedError)
      expect((error as FailedError).code).to.equal('would-not-fit')
      expect((error as Error).message).to.equal('Draining h1 would leave 1 task(s) with nowhere to go (big.0: 0/1 nodes fit: 1 insufficient cpus (need 3, max free 0)).')
      expect((error as FailedError).hint).to.include('clusterctl node drain h1 --force')
    }
  })

  describe('local volumes, counted as the pass counts them', () => {
    let vstore: Store
    let vtmp: ReturnType<typeof makeTempDir>
    const withDisk = (job: Job, diskBytes: number, volume?: {name: string; sizeBytes: number}): Job => ({...job, spec: {...job.spec, resources: {...job.spec.resources, diskBytes}, volumes: volume ? [{source: volume.name, target: '/data', readOnly: false, local: {sizeBytes: volume.sizeBytes}}] : []}})
    const volume = (name: string, job: Job, nodeId: string, sizeBytes: number): Parameters<typeof insertVolume>[1] => ({id: `${name}-id`, name, kind: 'local', jobId: job.id, jobName: job.name, instance: 0, nodeId, sizeBytes, nfs: null, createdAt: NOW})

    beforeEach(() => {
      vtmp = makeTempDir()
      vstore = Store.open(path.join(vtmp.dir, 'state.db'), new ManualClock(NOW))
      // db keeps data-0 on h1; archive is scaled to 0 but its 95Gi volume stays reserved on h2 (100Gi disks)
      const db = withDisk(aJob('db', {instances: 1, cpuMilli: 100, memBytes: Gi / 4}), 0, {name: 'data', sizeBytes: 10 * Gi})
      const archive = {...withDisk(aJob('archive', {instances: 0, cpuMilli: 100}), 0, {name: 'arch', sizeBytes: 95 * Gi}), instances: 0}
      const web = withDisk(aJob('web', {instances: 1, cpuMilli: 100, memBytes: Gi / 4}), 10 * Gi)
      vstore.write(() => {
        for (const n of ['h1', 'h2']) insertNode(vstore, aNode(n))
        for (const j of [db, archive, web]) insertJob(vstore, j)
        insertTask(vstore, aTask(db, 0, 'h1'))
        insertTask(vstore, aTask(web, 0, 'h1'))
        insertVolume(vstore, volume('data-0', db, 'node-h1', 10 * Gi))
        insertVolume(vstore, volume('arch-0', archive, 'node-h2', 95 * Gi))
      })
    })
    afterEach(() => {
      vstore.close()
      vtmp.cleanup()
    })

    it('a volume\'s size stays reserved on its node even with its job at 0 instances; a task pinned to a lost node waits for it, not counted as unplaced', () => {
      const r = whatIfDown({store: vstore}, ['h1'])
      // web needs 10Gi of disk: h2 has 100Gi - 95Gi reserved for arch-0 (without the reservation it would move there)
      expect(r.moves).to.deep.equal([])
      expect(r.unplaced.map((u) => [u.job, u.reason])).to.deep.equal([['web', '0/1 nodes fit: 1 insufficient disk (need 10Gi, max free 5Gi)']])
      expect(r.waiting.map((w) => [w.job, w.instance, w.from, w.volume, w.reason])).to.deep.equal([['db', 0, 'h1', 'data-0', 'blocked: volume data-0 is on h1 (down)']])
      expect(r.fits).to.equal(false)
      expect(() => drainPreview({store: vstore}, 'h1')).to.throw(/web\.0: 0\/1 nodes fit: 1 insufficient disk/)
      expect(drainPreview({store: vstore}, 'h1', true).waiting.map((w) => w.volume)).to.deep.equal(['data-0'])
    })

    it('a drain whose only unmovable tasks keep their data on the node fits (they wait for it); the answer says which', () => {
      vstore.write(() => vstore.stmt(`DELETE FROM volumes WHERE name = 'arch-0'`).run())
      const r = whatIfDown({store: vstore}, ['h1'])
      expect(r.moves.map((m) => [m.job, m.to])).to.deep.equal([['web', 'h2']])
      expect(r.waiting.map((w) => `${w.job}.${w.instance} ${w.volume}`)).to.deep.equal(['db.0 data-0'])
      expect(r.fits).to.equal(true)
      expect(drainPreview({store: vstore}, 'h1').waiting.map(waitingLine)).to.deep.equal(['db.0 stops and waits for h1: its volume data-0 is there; `clusterctl node uncordon h1` runs it there again, or `clusterctl volume forget data-0 --new-empty` moves it without its data'])
    })
  })
})

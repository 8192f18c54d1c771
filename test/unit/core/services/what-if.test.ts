import {expect} from 'chai'
import path from 'node:path'

import {ManualClock} from '../../../../src/core/clock.js'
import {FailedError, NotFoundError, UserError} from '../../../../src/core/errors.js'
import {assertDrainFits, whatIfDown, whatIfEachNode} from '../../../../src/core/services/what-if.js'
import {insertJob, insertTask} from '../../../../src/core/state/jobs.js'
import {insertNode} from '../../../../src/core/state/nodes.js'
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
      assertDrainFits({store}, 'h1')
      expect.fail('expected a refusal')
    } catch (error) {
      expect(error).to.be.instanceOf(FailedError)
      expect((error as FailedError).code).to.equal('would-not-fit')
      expect((error as Error).message).to.equal('Draining h1 would leave 1 task(s) with nowhere to go (big.0: 0/1 nodes fit: 1 insufficient cpus (need 3, max free 0)).')
      expect((error as FailedError).hint).to.include('clusterctl node drain h1 --force')
    }
  })
})

import {expect} from 'chai'

import {whatIf} from '../../../../src/core/reconcile/what-if.js'
import {aJob, aNode, aTask, Gi} from '../../ui/dashboard/fixtures.js'

describe('core/reconcile/what-if', () => {
  const web = aJob('web', {instances: 3})
  const db = aJob('db', {instances: 1, cpuMilli: 3000, memBytes: 6 * Gi})
  const nodes = [aNode('h1'), aNode('h2'), aNode('h3')]

  it('losing one node: its tasks move where the scheduler puts them; a service keeps its other instances', () => {
    const tasks = [aTask(web, 0, 'h1'), aTask(web, 1, 'h2'), aTask(web, 2, 'h3')]
    const r = whatIf({nodes, jobs: [web], tasks, down: ['h1'], seed: 1})
    expect(r.fits).to.equal(true)
    expect(r.moves).to.have.length(1)
    expect(r.moves[0]).to.deep.include({job: 'web', instance: 0, from: 'h1'})
    expect(['h2', 'h3']).to.include(r.moves[0]!.to)
    expect(r.unplaced).to.deep.equal([])
    expect(r.services).to.deep.equal([{job: 'web', instances: 3, runningAfterLoss: 2, minHealthy: 3, ok: false}])
  })

  it('what does not fit is named with the scheduler reason; losing every node leaves everything unplaced', () => {
    // db (3 cpus, 6Gi) on h1; h2 and h3 each hold 2 web instances (2 cpus, 2Gi): no room for db elsewhere.
    const more = aJob('more', {instances: 1, cpuMilli: 2000})
    const tasks = [aTask(db, 0, 'h1'), aTask(web, 0, 'h2'), aTask(web, 1, 'h2'), aTask(web, 2, 'h3'), aTask(more, 0, 'h3')]
    const r = whatIf({nodes, jobs: [web, db, more], tasks, down: ['h1'], seed: 1})
    expect(r.fits).to.equal(false)
    expect(r.unplaced).to.have.length(1)
    expect(r.unplaced[0]).to.deep.include({job: 'db', instance: 0, from: 'h1'})
    expect(r.unplaced[0]!.reason).to.equal('0/2 nodes fit: 2 insufficient cpus (need 3, max free 2)')
    const all = whatIf({nodes, jobs: [web, db, more], tasks, down: ['h1', 'h2', 'h3'], seed: 1})
    expect(all.unplaced).to.have.length(5)
    expect(all.unplaced[0]!.reason).to.equal('0/0 nodes fit: the cluster has no nodes')
  })

  it('pending and stopping tasks are not counted; a node that holds nothing is safe', () => {
    const tasks = [aTask(web, 0, null), aTask(web, 1, 'h2', {desired: 'stop'})]
    const r = whatIf({nodes, jobs: [web], tasks, down: ['h3'], seed: 1})
    expect(r).to.deep.equal({down: ['h3'], fits: true, moves: [], unplaced: [], waiting: [], services: []})
  })
})

import {expect} from 'chai'
import fc from 'fast-check'

import {UPGRADE_DEFAULTS} from '../../../../src/core/model/job.js'
import {fitsWithin, type Resources} from '../../../../src/core/model/resources.js'
import {chooseVictims, disruptionBudgets, type PreemptNode, PRIORITY_GAP, type VictimCandidate, victimsOnNode} from '../../../../src/core/reconcile/preempt.js'
import {aJob} from '../../ui/dashboard/fixtures.js'

const Gi = 1024 ** 3
const res = (cpuMilli: number, memBytes = 0): Resources => ({cpuMilli, memBytes, diskBytes: 0, gpus: 0})
const v = (taskId: string, nodeId: string, priority: number, cpu: number, jobId = `job-${taskId}`): VictimCandidate => ({taskId, jobId, nodeId, priority, resources: res(cpu, Gi)})
const node = (id: string, freeCpu: number): PreemptNode => ({id, name: id, free: res(freeCpu, 8 * Gi)})

describe('core/reconcile/preempt (victim selection)', () => {
  it('takes the lowest priority first and only what is needed, never within 10 of the preemptor', () => {
    const running = [v('a', 'n1', 40, 1000), v('b', 'n1', 10, 1000), v('c', 'n1', 30, 1000), v('d', 'n1', 45, 4000)]
    expect(victimsOnNode(res(2000), 50, node('n1', 0), running, new Map())?.map((x) => x.taskId)).to.deep.equal(['b', 'c'])
    // d (45) is within 10 of 50: never a victim, so 3 cpus cannot be freed from a, b, c... they give exactly 3.
    expect(victimsOnNode(res(3000), 50, node('n1', 0), running, new Map())?.map((x) => x.taskId)).to.deep.equal(['b', 'c', 'a'])
    expect(victimsOnNode(res(4000), 50, node('n1', 0), running, new Map())).to.equal(null)
    expect(victimsOnNode(res(1000), 50, node('n1', 1000), running, new Map())).to.equal(null) // it fits already: nothing to preempt
  })

  it('prunes a low-priority victim that a bigger one made unnecessary', () => {
    const running = [v('small', 'n1', 10, 500), v('big', 'n1', 20, 4000)]
    expect(victimsOnNode(res(3000), 60, node('n1', 0), running, new Map())?.map((x) => x.taskId)).to.deep.equal(['big'])
  })

  it('respects disruption budgets: a service loses at most what its budget allows', () => {
    const running = [v('w0', 'n1', 10, 1000, 'web'), v('w1', 'n1', 10, 1000, 'web'), v('b0', 'n1', 20, 1000, 'batch')]
    expect(victimsOnNode(res(2000), 80, node('n1', 0), running, new Map([['web', 1]]))?.map((x) => x.taskId).sort()).to.deep.equal(['b0', 'w0'])
    expect(victimsOnNode(res(3000), 80, node('n1', 0), running, new Map([['web', 1]]))).to.equal(null)
  })

  it('chooses the node needing the fewest victims, then the lowest of their priorities; `accept` can refuse a node', () => {
    const running = [v('a', 'n1', 10, 1000), v('b', 'n1', 10, 1000), v('c', 'n2', 30, 2000), v('d', 'n3', 20, 2000)]
    const nodes = [node('n1', 0), node('n2', 0), node('n3', 0)]
    expect(chooseVictims(res(2000), 90, nodes, running, new Map())).to.deep.equal({nodeId: 'n3', victims: [running[3]]})
    expect(chooseVictims(res(2000), 90, nodes, running, new Map(), (c) => c.nodeId !== 'n3')?.nodeId).to.equal('n2')
    expect(chooseVictims(res(2000), 90, nodes, running, new Map(), () => false)).to.equal(null)
  })

  it('budgets: the rollout\'s maxUnavailable, minus those not running; batch jobs have none', () => {
    const web = aJob('web', {instances: 4})
    web.spec.upgrade = {...UPGRADE_DEFAULTS, maxUnavailable: '50%'}
    const strict = aJob('api', {instances: 3})
    const batch = {...aJob('etl', {instances: 2}), kind: 'batch' as const}
    const running = [...['web', 'web', 'web'].map((j) => ({jobId: `job-${j}`, state: 'running' as const})), {jobId: 'job-api', state: 'running' as const}]
    const budgets = disruptionBudgets([{...web, id: 'job-web'}, {...strict, id: 'job-api'}, {...batch, id: 'job-etl'}], running)
    expect(budgets.get('job-web')).to.equal(1) // 2 may be down, 1 already is
    expect(budgets.get('job-api')).to.equal(0)
    expect(budgets.has('job-etl')).to.equal(false)
  })

  it('property: victims are on one node, at least PRIORITY_GAP lower, within budgets, and make the request fit; none can be left out', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({node: fc.constantFrom('n1', 'n2', 'n3'), priority: fc.integer({min: 1, max: 100}), cpu: fc.integer({min: 100, max: 4000}), job: fc.constantFrom('a', 'b', 'c', 'd')}), {maxLength: 20}),
        fc.integer({min: 1, max: 100}),
        fc.integer({min: 100, max: 8000}),
        fc.array(fc.integer({min: 0, max: 3}), {minLength: 4, maxLength: 4}),
        (tasks, priority, need, budgetList) => {
          const running = tasks.map((t, i) => v(`t${i}`, t.node, t.priority, t.cpu, t.job))
          const budgets = new Map(['a', 'b', 'c', 'd'].map((j, i) => [j, budgetList[i]!]))
          const nodes = [node('n1', 500), node('n2', 0), node('n3', 1000)]
          const choice = chooseVictims(res(need), priority, nodes, running, budgets)
          if (choice === null) return
          const n = nodes.find((x) => x.id === choice.nodeId)!
          expect(choice.victims.length).to.be.greaterThan(0)
          const freed = choice.victims.reduce((s, x) => s + x.resources.cpuMilli, 0)
          expect(fitsWithin(res(need), res(n.free.cpuMilli + freed, 8 * Gi + choice.victims.length * Gi))).to.equal(true)
          for (const x of choice.victims) {
            expect(x.nodeId).to.equal(choice.nodeId)
            expect(x.priority).to.be.at.most(priority - PRIORITY_GAP)
            // Minimal: without any one victim the request would not fit.
            expect(n.free.cpuMilli + freed - x.resources.cpuMilli).to.be.lessThan(need)
          }

          for (const [job, b] of budgets) expect(choice.victims.filter((x) => x.jobId === job).length).to.be.at.most(b)
        },
      ),
      {numRuns: 300},
    )
  })
})

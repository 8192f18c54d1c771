import {expect} from 'chai'
import fc from 'fast-check'

import {UserError} from '../../../../src/core/errors.js'
import {checkGraph, childrenOf, type GraphJob, graphOf} from '../../../../src/core/schedule/graph.js'

const job = (name: string, ...after: string[]): GraphJob => ({name, after, schedule: after.length ? null : '@daily'})

function refusal(jobs: GraphJob[]): string {
  try {
    checkGraph(jobs)
  } catch (error) {
    expect(error).to.be.instanceOf(UserError)
    return (error as Error).message
  }

  throw new Error('expected a refusal')
}

describe('core/schedule graph', () => {
  it('accepts a diamond', () => checkGraph([job('a'), job('b', 'a'), job('c', 'a'), job('d', 'b', 'c')]))

  it('refuses an unknown parent, naming both jobs', () => {
    expect(refusal([job('a'), job('b', 'a', 'ghost')])).to.equal('Job b runs after ghost, which does not exist.')
  })

  it('refuses a cycle, naming its path in run order', () => {
    expect(refusal([job('x'), job('a', 'c'), job('b', 'a'), job('c', 'b')])).to.equal('Jobs depend on each other in a cycle: a -> b -> c -> a.')
  })

  it('start order (dependsOn) is checked with after: an unknown name and a cycle through both kinds are refused', () => {
    const svc = (name: string, ...dependsOn: string[]): GraphJob => ({name, after: [], schedule: null, dependsOn})
    checkGraph([svc('db'), svc('web', 'db')])
    expect(refusal([svc('web', 'db')])).to.equal('Job web depends on db, which does not exist.')
    expect(refusal([svc('web', 'api'), svc('api', 'web')])).to.contain('api -> web -> api')
    expect(refusal([svc('web', 'report'), job('report', 'web')])).to.match(/cycle: (web -> report -> web|report -> web -> report)/)
  })

  it('refuses a two-job cycle', () => expect(refusal([job('a', 'b'), job('b', 'a')])).to.contain('a -> b -> a'))

  it('lists children, and the connected part of the graph in depth order', () => {
    const jobs = [job('a'), job('b', 'a'), job('c', 'b'), job('z'), job('y', 'z')]
    expect(childrenOf(jobs, 'a')).to.deep.equal(['b'])
    const g = graphOf(jobs, 'b')
    expect(g.nodes.map((n) => n.name)).to.deep.equal(['a', 'b', 'c'])
    expect(g.edges).to.deep.equal([{parent: 'a', child: 'b'}, {parent: 'b', child: 'c'}])
    expect(graphOf(jobs).nodes.map((n) => n.name)).to.deep.equal(['a', 'z', 'b', 'y', 'c'])
  })

  it('property: a random DAG passes; adding an edge from a descendant back to an ancestor is a cycle', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(), {maxLength: 3}), {minLength: 2, maxLength: 30}), (parentPicks) => {
        // job i may only run after jobs < i: a DAG by construction.
        const jobs = parentPicks.map((picks, i) => job(`j${i}`, ...(i === 0 ? [] : [...new Set(picks.map((p) => `j${p % i}`))])))
        checkGraph(jobs)
        const last = jobs.at(-1)!
        if (last.after.length === 0) return
        const parent = last.after[0]!
        const withCycle = jobs.map((j) => (j.name === parent ? {...j, after: [...j.after, last.name]} : j))
        expect(refusal(withCycle)).to.contain('cycle')
      }),
    )
  })

  it('handles a 1,000-deep chain without recursion', () => {
    const jobs = Array.from({length: 1000}, (_, i) => job(`j${i}`, ...(i ? [`j${i - 1}`] : [])))
    checkGraph(jobs)
    expect(graphOf(jobs, 'j500').nodes).to.have.length(1000)
  })
})

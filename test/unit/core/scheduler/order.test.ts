import {expect} from 'chai'
import fc from 'fast-check'

import type {Resources} from '../../../../src/core/model/resources.js'
import {schedule} from '../../../../src/core/scheduler/index.js'
import {clusterTotal, dominantShare, type OrderedTask, quotaExceeded, type TeamShare, WorkOrder} from '../../../../src/core/scheduler/order.js'
import type {TaskRequest} from '../../../../src/core/scheduler/types.js'
import {Gi, node, res} from './fixtures.js'

/** `count` tasks of one team and shape. */
function teamTasks(team: string, count: number, resources: Resources, extra: Partial<TaskRequest> = {}): TaskRequest[] {
  return Array.from({length: count}, (_, i) => ({taskId: `${team}-${i}`, jobId: `job-${team}`, instance: i, resources, ports: 0, constraints: [], preferences: [], team, ...extra}))
}

const placedPerTeam = (placements: ReadonlyArray<{taskId: string}>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const p of placements) {
    const team = p.taskId.split('-')[0]!
    out[team] = (out[team] ?? 0) + 1
  }

  return out
}

describe('core/scheduler/order (weighted DRF, quotas, priorities)', () => {
  // Ghodsi et al., "Dominant Resource Fairness", NSDI 2011, section 4: 9 CPUs and 18 GB; user A
  // runs tasks of <1 CPU, 4 GB> (memory-dominant), user B tasks of <3 CPUs, 1 GB> (cpu-dominant).
  const mesos = {nodes: [node('big', {allocatable: res(9000, 18 * Gi, 0)})], placed: []}
  const a = teamTasks('a', 10, res(1000, 4 * Gi))
  const b = teamTasks('b', 10, res(3000, 1 * Gi))

  it("the Mesos paper's example: A gets 3 tasks, B gets 2, both dominant shares 2/3", () => {
    const plan = schedule(mesos, [...a, ...b], {seed: 1})
    expect(placedPerTeam(plan.placements)).to.deep.equal({a: 3, b: 2})
    // Progressive filling: A (0, tie broken by name), B (A at 2/9 > 0), A, B, A.
    expect(plan.placements.map((p) => p.taskId)).to.deep.equal(['a-0', 'b-0', 'a-1', 'b-1', 'a-2'])
    expect(dominantShare(res(3000, 12 * Gi), res(9000, 18 * Gi))).to.be.closeTo(2 / 3, 1e-12)
    expect(dominantShare(res(6000, 2 * Gi), res(9000, 18 * Gi))).to.be.closeTo(2 / 3, 1e-12)
    // The order of `work` does not matter: B first in the list gives the same allocation.
    expect(placedPerTeam(schedule(mesos, [...b, ...a], {seed: 1}).placements)).to.deep.equal({a: 3, b: 2})
  })

  it('its weighted variant: with weight 3, A gets 4 tasks (16 GB, share 8/9 / 3) and B 1 (1/3)', () => {
    const plan = schedule(mesos, [...a, ...b], {seed: 1, teams: [{name: 'a', weight: 3, allocated: res(0, 0), running: 0}]})
    expect(placedPerTeam(plan.placements)).to.deep.equal({a: 4, b: 1})
    expect(plan.placements.map((p) => p.taskId)).to.deep.equal(['a-0', 'b-0', 'a-1', 'a-2', 'a-3'])
  })

  it('what a team holds already counts: the team with tasks running goes after', () => {
    const teams: TeamShare[] = [{name: 'a', weight: 1, allocated: res(1000, 4 * Gi), running: 1}]
    const nodes = {nodes: [node('n', {allocatable: res(9000, 18 * Gi), allocated: res(1000, 4 * Gi)})], placed: []}
    const plan = schedule(nodes, [...teamTasks('a', 1, res(1000, 1 * Gi)), ...teamTasks('b', 1, res(1000, 1 * Gi))], {seed: 1, teams})
    expect(plan.placements.map((p) => p.taskId)).to.deep.equal(['b-0', 'a-0'])
  })

  it('ties: the lower share first, then fewer running tasks, then the name', () => {
    const total = res(10_000, 10 * Gi)
    const work: OrderedTask[] = [{team: 'z', resources: res(1000, 0)}, {team: 'y', resources: res(1000, 0)}, {team: 'x', resources: res(1000, 0)}]
    const teams: TeamShare[] = [
      {name: 'x', weight: 1, allocated: res(1000, 0), running: 2},
      {name: 'y', weight: 1, allocated: res(1000, 0), running: 1},
      {name: 'z', weight: 1, allocated: res(0, 0), running: 0},
    ]
    const order = new WorkOrder(work, {total, teams})
    const got: number[] = []
    for (let i = order.next(); i !== undefined; i = order.next()) {
      got.push(i)
      order.settle(i, true)
    }

    expect(got.map((i) => work[i]!.team)).to.deep.equal(['z', 'y', 'x'])
  })

  it('within a team: higher priority first, then the larger request; other teams are not jumped', () => {
    const work: OrderedTask[] = [{team: 't', priority: 10, resources: res(4000, 0)}, {team: 't', resources: res(1000, 0)}, {team: 't', priority: 90, resources: res(500, 0)}, {team: 't', resources: res(2000, 0)}]
    const order = new WorkOrder(work, {total: res(100_000, 0), size: (i) => work[i]!.resources.cpuMilli})
    const got: number[] = []
    for (let i = order.next(); i !== undefined; i = order.next()) got.push(i)
    expect(got).to.deep.equal([2, 3, 1, 0])
  })

  it('a quota is a hard limit: work beyond it stays pending with the reason, other teams go on', () => {
    const nodes = {nodes: [node('n', {allocatable: res(64_000, 64 * Gi)})], placed: []}
    const teams: TeamShare[] = [{name: 'data', weight: 1, quota: {cpuMilli: 12_000}, allocated: res(10_000, 0), running: 5}]
    const work = [...teamTasks('data', 3, res(1000, Gi)), ...teamTasks('web', 2, res(1000, Gi))]
    const plan = schedule(nodes, work, {seed: 1, teams})
    expect(plan.placements.map((p) => p.taskId).sort()).to.deep.equal(['data-0', 'data-1', 'web-0', 'web-1'])
    expect(plan.pending).to.have.length(1)
    expect(plan.pending[0]).to.deep.include({taskId: 'data-2', reason: 'team data over quota: cpus 12/12', counts: {}})
    expect(plan.pending[0]!.details[0]).to.deep.include({reason: 'team-over-quota', team: 'data', need: 1000, maxFree: 0})
    expect(quotaExceeded('data', res(11_000, 0), res(2000, 0), {cpuMilli: 12_000})?.reason).to.equal('team data over quota: cpus 11/12 (needs 2 more)')
    expect(quotaExceeded('ml', res(0, 7 * Gi), res(0, 2 * Gi), {memBytes: 8 * Gi})?.reason).to.equal('team ml over quota: mem 7Gi/8Gi (needs 2Gi more)')
    expect(quotaExceeded('ml', res(0, 6 * Gi), res(0, 2 * Gi), {memBytes: 8 * Gi})).to.equal(null)
  })

  it('the cluster total counts the nodes that are up', () => {
    expect(clusterTotal([node('a', {allocatable: res(1000, Gi)}), node('b', {state: 'cordoned', allocatable: res(2000, Gi)}), node('c', {state: 'down', allocatable: res(4000, Gi)})])).to.deep.equal(res(3000, 2 * Gi))
  })

  it('one team and no priorities keep the scheduler as it was: largest first, stable', () => {
    const work: OrderedTask[] = [{resources: res(1000, 0)}, {resources: res(3000, 0)}, {resources: res(1000, 0)}, {resources: res(2000, 0)}]
    const order = new WorkOrder(work, {total: res(10_000, 0), size: (i) => work[i]!.resources.cpuMilli})
    const got: number[] = []
    for (let i = order.next(); i !== undefined; i = order.next()) got.push(i)
    expect(got).to.deep.equal([1, 3, 0, 2])
  })

  // The oracle recomputes every share from scratch at each step, from the starting allocations plus
  // what was placed: the queue must always pick a team the oracle says has the least weighted share.
  it('property: every pick is a lowest weighted dominant share among teams with work left; quotas never exceeded; each task once', () => {
    const arbRes = fc.record({cpuMilli: fc.integer({min: 0, max: 4000}), memBytes: fc.integer({min: 0, max: 8 * Gi}), diskBytes: fc.constant(0), gpus: fc.integer({min: 0, max: 1})})
    const teamNames = ['a', 'b', 'c', 'd']
    fc.assert(
      fc.property(
        fc.array(fc.record({team: fc.constantFrom(...teamNames), priority: fc.integer({min: 1, max: 100}), resources: arbRes}), {maxLength: 40}),
        fc.array(fc.record({name: fc.constantFrom(...teamNames), weight: fc.constantFrom(0.5, 1, 2, 3), quotaCpu: fc.option(fc.integer({min: 0, max: 12_000})), allocated: arbRes, running: fc.integer({min: 0, max: 3})})),
        fc.array(fc.boolean(), {minLength: 40, maxLength: 40}),
        (work, teamList, outcomes) => {
          const teams = [...new Map(teamList.map((t) => [t.name, {name: t.name, weight: t.weight, allocated: t.allocated, running: t.running, ...(t.quotaCpu === null ? {} : {quota: {cpuMilli: t.quotaCpu}})}])).values()]
          const total = res(40_000, 64 * Gi, 0, 4)
          const order = new WorkOrder(work, {total, teams})
          const alloc = new Map(teams.map((t) => [t.name, {...t.allocated}]))
          const weight = (n: string): number => teams.find((t) => t.name === n)?.weight ?? 1
          const share = (n: string): number => dominantShare(alloc.get(n) ?? res(0, 0), total) / weight(n)
          const seen = new Set<number>()
          let step = 0
          for (let i = order.next(); i !== undefined; i = order.next()) {
            expect(seen.has(i)).to.equal(false)
            seen.add(i)
            const team = work[i]!.team
            // Teams that still had an unoffered task when this one was picked (refusals are picks too).
            const waiting = new Set(work.filter((_, j) => !seen.has(j) && !order.refused.has(j)).map((w) => w.team))
            for (const other of waiting) expect(share(team), `${team} picked before ${other}`).to.be.at.most(share(other) + 1e-9)
            const quota = teams.find((t) => t.name === team)?.quota?.cpuMilli
            if (quota !== undefined) expect((alloc.get(team)?.cpuMilli ?? 0) + work[i]!.resources.cpuMilli).to.be.at.most(quota)
            const placed = outcomes[step++]!
            order.settle(i, placed)
            if (placed) {
              const r = alloc.get(team) ?? res(0, 0)
              alloc.set(team, {cpuMilli: r.cpuMilli + work[i]!.resources.cpuMilli, memBytes: r.memBytes + work[i]!.resources.memBytes, diskBytes: 0, gpus: r.gpus + work[i]!.resources.gpus})
            }
          }

          for (const j of order.refused.keys()) seen.add(j)
          expect(seen.size).to.equal(work.length)
        },
      ),
      {numRuns: 300},
    )
  })
})

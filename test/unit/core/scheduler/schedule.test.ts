import {expect} from 'chai'

import {BugError, UserError} from '../../../../src/core/errors.js'
import type {Constraint, Plan, SchedNode, ScheduleOptions, Snapshot, TaskRequest} from '../../../../src/core/scheduler/index.js'
import {schedule, scheduleNaive} from '../../../../src/core/scheduler/index.js'
import {Gi, instances, Mi, node, planProblems, res, task, where} from './fixtures.js'

const MODES = {indexed: schedule, naive: scheduleNaive}

/** Runs both searches, checks both plans against the spec, returns the indexed one. */
function plan(snapshot: Snapshot, work: TaskRequest[], options: Partial<ScheduleOptions> = {}): Plan {
  const opts = {seed: 7, ...options}
  let out: Plan | undefined
  for (const [mode, run] of Object.entries(MODES)) {
    const p = run(snapshot, work, opts)
    expect(planProblems(snapshot, work, p, opts.portRange), mode).to.deep.equal([])
    out ??= p
  }
  return out!
}

/** Both searches' plans (each checked against the spec), for behaviour both must show. */
function plans(snapshot: Snapshot, work: TaskRequest[], options: Partial<ScheduleOptions> = {}): Plan[] {
  const opts = {seed: 7, ...options}
  return Object.values(MODES).map((run) => {
    const p = run(snapshot, work, opts)
    expect(planProblems(snapshot, work, p, opts.portRange)).to.deep.equal([])
    return p
  })
}

const snap = (nodes: SchedNode[], placed: Snapshot['placed'] = []): Snapshot => ({nodes, placed})
const rack = (name: string, r: string, extra: Record<string, string> = {}) => node(name, {labels: {rack: r, ...extra}})

describe('core/scheduler schedule', () => {
  describe('pending summary', () => {
    it('counts every node under the first filter that refuses it, with need and best free amount', () => {
      const s = snap([
        node('a', {allocated: res(0, 6.5 * Gi)}),
        node('b', {allocated: res(0, 7 * Gi)}),
        node('c', {state: 'cordoned'}),
      ])
      const p = plan(s, [task('t', {resources: res(500, 2 * Gi)})])
      expect(p.placements).to.deep.equal([])
      expect(p.pending).to.have.length(1)
      expect(p.pending[0]!.reason).to.equal('0/3 nodes fit: 2 insufficient mem (need 2Gi, max free 1.5Gi), 1 cordoned')
      expect(p.pending[0]!.counts).to.deep.equal({'insufficient-mem': 2, 'node-cordoned': 1})
      expect(p.pending[0]!.details[0]).to.deep.include({reason: 'insufficient-mem', count: 2, need: 2 * Gi, maxFree: 1.5 * Gi})
    })

    it('a ready node with a blocking health condition takes no new work, and says so (node-condition)', () => {
      const s = snap([node('a', {blockedBy: 'DiskPressure'}), node('b', {allocated: res(0, 7 * Gi)}), node('c')])
      const p = plan(s, [task('t', {resources: res(500, 2 * Gi)}), task('u', {resources: res(500, 2 * Gi)})])
      expect(p.placements.map((x) => x.nodeId)).to.deep.equal(['id-c', 'id-c'])
      const q = plan(snap([node('a', {blockedBy: 'DiskPressure'}), node('b', {state: 'cordoned', blockedBy: 'SMARTFailing'})]), [task('t')])
      expect(q.pending[0]!.reason).to.equal('0/2 nodes fit: 1 cordoned, 1 with a health condition (clusterctl node doctor)')
      expect(q.pending[0]!.counts).to.deep.equal({'node-cordoned': 1, 'node-condition': 1})
    })

    it('names every node state, cpus, gpus, disk and ports', () => {
      const s = snap([
        node('d', {state: 'draining'}),
        node('s', {state: 'suspect'}),
        node('w', {state: 'down'}),
        node('u', {state: 'unreachable'}),
        node('c', {allocated: res(3500, 0)}),
        node('g'),
        node('k', {allocatable: res(4000, 8 * Gi, 1 * Gi, 1)}),
        node('p', {allocatable: res(4000, 8 * Gi, 100 * Gi, 1), usedPorts: [31000, 31001]}),
      ])
      const p = plan(s, [task('t', {resources: res(1000, Gi, 2 * Gi, 1), ports: 1})], {portRange: {from: 31000, to: 31001}})
      expect(p.pending[0]!.reason).to.equal(
        '0/8 nodes fit: 1 draining, 1 suspect, 1 down, 1 unreachable, 1 insufficient cpus (need 1, max free 0.5), ' +
          '1 insufficient disk (need 2Gi, max free 1Gi), 1 insufficient gpus (need 1, max free 0), 1 too few free host ports in 31000-31001 (need 1, max free 0)',
      )
    })

    it('counts a node refused by a constraint under the constraint, even when it is also full', () => {
      const s = snap([node('a', {allocated: res(4000, 0)}), node('b', {allocated: res(4000, 0)})], [{taskId: 'o', jobId: 'job', nodeId: 'id-a'}])
      const p = plan(s, [task('t', {constraints: [{field: 'hostname', operator: 'UNIQUE'}]})])
      expect(p.pending[0]!.reason).to.equal('0/2 nodes fit: 1 fail hostname:UNIQUE (their node already runs an instance), 1 insufficient cpus (need 0.5, max free 0)')
    })

    it('says so when there are no nodes', () => {
      const p = plan(snap([]), [task('t')])
      expect(p.pending[0]!.reason).to.equal('0/0 nodes fit: the cluster has no nodes')
      expect(p.pending[0]!.counts).to.deep.equal({})
    })

    it('explains constraint refusals with the constraint as written', () => {
      const s = snap([rack('a', 'r1'), rack('b', 'r2'), node('c')], [{taskId: 'old', jobId: 'job', nodeId: 'id-a'}])
      const p = plan(s, [task('t', {constraints: [{field: 'rack', operator: 'CLUSTER'}, {field: 'hostname', operator: 'UNIQUE'}]})])
      expect(p.pending[0]!.reason).to.equal('0/3 nodes fit: 1 fail rack:CLUSTER (instances run on rack=r1), 1 lack label rack (rack:CLUSTER), 1 fail hostname:UNIQUE (their node already runs an instance)')
      expect(p.pending[0]!.counts).to.deep.equal({'constraint-cluster': 1, 'constraint-missing-field': 1, 'constraint-unique': 1})
    })
  })

  describe('resources and nodes', () => {
    it('never overcommits any dimension and only uses ready nodes', () => {
      const s = snap([node('a', {allocatable: res(2000, 2 * Gi, 10 * Gi, 1)}), node('b', {state: 'draining'})])
      const p = plan(s, instances('j', 4, {resources: res(1000, Gi, 5 * Gi, 1)}))
      expect(p.placements.map((x) => x.nodeId)).to.deep.equal(['id-a'])
      expect(p.pending).to.have.length(3)
    })

    it('gives no work to a node already overcommitted, even for a zero request', () => {
      const p = plan(snap([node('a', {allocated: res(5000, 0)})]), [task('t', {resources: res(0, 0)})])
      expect(p.pending[0]!.reason).to.equal('0/1 nodes fit: 1 insufficient cpus (need 0, max free 0)')
    })

    it('nodes that share a host share its port space: never the same port on two names of one machine, and a port used by one is taken on all', () => {
      const s = snap([node('a', {host: 'm', usedPorts: [31000]}), node('b', {host: 'm'}), node('c', {host: 'other'})])
      const p = plan(s, instances('web', 2, {ports: 1, constraints: [{field: 'hostname', operator: 'UNIQUE'}], strategy: 'spread'}), {portRange: {from: 31000, to: 31002}})
      const byNode = Object.fromEntries(p.placements.map((x) => [s.nodes.find((n) => n.id === x.nodeId)!.name, x.hostPorts]))
      const onM = Object.entries(byNode).filter(([n]) => n !== 'c').flatMap(([, ports]) => ports)
      expect(onM).not.to.include(31000)
      expect(new Set(onM).size).to.equal(onM.length)
      // two free ports left on m (31001, 31002) for a, b together: the third task there is refused for ports
      const full = plan(snap([node('a', {host: 'm', usedPorts: [31000]}), node('b', {host: 'm'})]), instances('web', 3, {ports: 1}), {portRange: {from: 31000, to: 31002}})
      expect(full.placements.flatMap((x) => x.hostPorts).sort()).to.deep.equal([31001, 31002])
      expect(full.pending[0]!.reason).to.equal('0/2 nodes fit: 2 too few free host ports in 31000-31002 (need 1, max free 0)')
    })

    it('assigns host ports from the range, never twice on a node, skipping used ones', () => {
      const s = snap([node('a', {usedPorts: [31000, 31002]})])
      const p = plan(s, instances('web', 3, {ports: 1}), {portRange: {from: 31000, to: 31003}})
      expect(p.placements.map((x) => x.hostPorts)).to.deep.equal([[31001], [31003]])
      expect(p.pending[0]!.reason).to.equal('0/1 nodes fit: 1 too few free host ports in 31000-31003 (need 1, max free 0)')
    })

    it('hands out the default range 31000-32000', () => {
      const p = plan(snap([node('a')]), [task('t', {ports: 2})])
      expect(p.placements[0]!.hostPorts).to.deep.equal([31000, 31001])
    })
  })

  describe('Marathon constraints', () => {
    const racks = () => [rack('a1', 'rack-1'), rack('a2', 'rack-1'), rack('b1', 'rack-2'), rack('b2', 'rack-2'), rack('c1', 'rack-10')]

    it('hostname:UNIQUE runs one instance per host, pre-placed instances included', () => {
      const s = snap([node('a'), node('b'), node('c')], [{taskId: 'old', jobId: 'sleep', nodeId: 'id-b'}])
      const p = plan(s, instances('sleep', 3, {constraints: [{field: 'hostname', operator: 'UNIQUE'}]}))
      expect(Object.values(where(p, s)).sort()).to.deep.equal(['a', 'c'])
      expect(p.pending[0]!.reason).to.match(/^0\/3 nodes fit: 3 fail hostname:UNIQUE/)
    })

    it('instances of other jobs do not count', () => {
      const s = snap([node('a')], [{taskId: 'old', jobId: 'other', nodeId: 'id-a'}])
      expect(plan(s, [task('t', {constraints: [{field: 'hostname', operator: 'UNIQUE'}]})]).pending).to.deep.equal([])
    })

    it('rack:CLUSTER:rack-1 runs every instance on rack-1', () => {
      const p = plan(snap(racks()), instances('j', 12, {resources: res(1000, Gi), constraints: [{field: 'rack', operator: 'CLUSTER', value: 'rack-1'}]}))
      expect(new Set(Object.values(where(p, snap(racks()))))).to.deep.equal(new Set(['a1', 'a2']))
      expect(p.placements).to.have.length(8)
    })

    it('rack:CLUSTER without a value keeps every instance on the rack of the first', () => {
      const s = snap(racks())
      const p = plan(s, instances('j', 6, {constraints: [{field: 'rack', operator: 'CLUSTER'}]}))
      const used = new Set(Object.values(where(p, s)).map((n) => s.nodes.find((x) => x.name === n)!.labels.rack))
      expect(used.size).to.equal(1)
    })

    it('rack:CLUSTER without a value follows instances already running', () => {
      const s = snap(racks(), [{taskId: 'old', jobId: 'j', nodeId: 'id-b1'}])
      const p = plan(s, instances('j', 3, {constraints: [{field: 'rack', operator: 'CLUSTER'}]}))
      expect(new Set(Object.values(where(p, s)))).to.satisfy((set: Set<string>) => [...set].every((n) => n.startsWith('b')))
    })

    it('hostname:CLUSTER without a value puts every instance on one node', () => {
      const s = snap(racks())
      const p = plan(s, instances('j', 5, {resources: res(100, Mi), constraints: [{field: 'hostname', operator: 'CLUSTER'}]}))
      expect(new Set(Object.values(where(p, s))).size).to.equal(1)
      expect(p.placements).to.have.length(5)
    })

    it('rack:GROUP_BY spreads evenly over the racks, even under binpack', () => {
      const s = snap(racks())
      const p = plan(s, instances('j', 6, {resources: res(100, Mi), constraints: [{field: 'rack', operator: 'GROUP_BY'}]}))
      const counts: Record<string, number> = {}
      for (const n of Object.values(where(p, s))) {
        const r = s.nodes.find((x) => x.name === n)!.labels.rack!
        counts[r] = (counts[r] ?? 0) + 1
      }
      expect(counts).to.deep.equal({'rack-1': 2, 'rack-2': 2, 'rack-10': 2})
    })

    it('rack:GROUP_BY:3 only opens new racks until three are used (Marathon), so two racks leave the rest pending', () => {
      const s = snap([rack('a', 'r1'), rack('b', 'r2'), node('c', {state: 'cordoned', labels: {rack: 'r3'}})])
      const p = plan(s, instances('j', 3, {resources: res(100, Mi), constraints: [{field: 'rack', operator: 'GROUP_BY', value: '3'}]}))
      expect(p.placements).to.have.length(2)
      expect(p.pending[0]!.reason).to.equal('0/3 nodes fit: 2 fail rack:GROUP_BY:3 (would unbalance the rack groups), 1 cordoned')
    })

    it('a full rack does not block GROUP_BY without a value: the others stay balanced', () => {
      const s = snap([rack('a', 'r1'), rack('b', 'r2'), node('c', {labels: {rack: 'r3'}, allocated: res(4000, 0)})])
      const p = plan(s, instances('j', 4, {resources: res(100, Mi), constraints: [{field: 'rack', operator: 'GROUP_BY'}]}))
      expect(Object.values(where(p, s)).sort()).to.deep.equal(['a', 'a', 'b', 'b'])
    })

    it('retries a GROUP_BY task refused earlier once its job has placed elsewhere', () => {
      // r1 holds 1 instance, r2 holds 2: only r1 is allowed, and the big task does not fit there.
      // The small task fills r1 up to 2, which allows r2 again: the big task must then be placed.
      const s = snap(
        [rack('small', 'r1'), rack('big', 'r2')].map((n) => (n.name === 'small' ? {...n, allocatable: res(1000, 8 * Gi, 100 * Gi)} : n)),
        [
          {taskId: 'o1', jobId: 'j', nodeId: 'id-small'},
          {taskId: 'o2', jobId: 'j', nodeId: 'id-big'},
          {taskId: 'o3', jobId: 'j', nodeId: 'id-big'},
        ],
      )
      const g: Constraint[] = [{field: 'rack', operator: 'GROUP_BY'}]
      const p = plan(s, [task('big', {jobId: 'j', resources: res(2000, Gi), constraints: g}), task('small', {jobId: 'j', resources: res(500, Gi), constraints: g})])
      expect(where(p, s)).to.deep.equal({small: 'small', big: 'big'})
    })

    it('rack:LIKE:rack-[1-2] matches the whole value (rack-10 does not match)', () => {
      const s = snap(racks())
      const p = plan(s, instances('j', 8, {resources: res(1000, Mi), constraints: [{field: 'rack', operator: 'LIKE', value: 'rack-[1-2]'}]}))
      expect(Object.values(where(p, s))).to.not.include('c1')
      expect(p.placements).to.have.length(8)
    })

    it('rack:UNLIKE:rack-1 avoids rack-1 and accepts nodes without the label', () => {
      const s = snap([rack('a', 'rack-1'), node('bare')])
      const p = plan(s, [task('t', {constraints: [{field: 'rack', operator: 'UNLIKE', value: 'rack-1'}]})])
      expect(where(p, s)).to.deep.equal({t: 'bare'})
    })

    it('every other operator refuses a node without the field', () => {
      for (const c of [
        {field: 'rack', operator: 'LIKE', value: '.*'},
        {field: 'rack', operator: 'UNIQUE'},
        {field: 'rack', operator: 'IS', value: 'x'},
      ] as Constraint[]) {
        const p = plan(snap([node('bare')]), [task('t', {constraints: [c]})])
        expect(p.pending[0]!.counts, c.operator).to.deep.equal({'constraint-missing-field': 1})
      }
    })

    it('rack:MAX_PER:2 puts at most two instances per rack', () => {
      const s = snap([rack('a', 'r1'), rack('b', 'r1'), rack('c', 'r2')])
      const p = plan(s, instances('j', 5, {resources: res(100, Mi), constraints: [{field: 'rack', operator: 'MAX_PER', value: '2'}]}))
      expect(p.placements).to.have.length(4)
      expect(p.pending[0]!.reason).to.equal('0/3 nodes fit: 3 fail rack:MAX_PER:2 (their rack already runs 2)')
    })

    it('a constraint clusterctl added says why when it refuses (a job on a network needs podman)', () => {
      const s = snap([node('c', {labels: {runtime: 'containerd'}}), node('d', {labels: {runtime: 'containerd'}})])
      const p = plan(s, instances('j', 1, {constraints: [{field: 'runtime', operator: 'IS', value: 'podman', because: 'a job on a network needs podman'}]}))
      expect(p.pending[0]!.reason).to.equal('0/2 nodes fit: 2 fail runtime:IS:podman (a job on a network needs podman)')
    })

    it('disk:IS:ssd only uses ssd nodes', () => {
      const s = snap([node('h', {labels: {disk: 'hdd'}}), node('s', {labels: {disk: 'ssd'}})])
      const p = plan(s, instances('j', 2, {constraints: [{field: 'disk', operator: 'IS', value: 'ssd'}]}))
      expect(Object.values(where(p, s))).to.deep.equal(['s', 's'])
    })
  })

  describe('strategies and preferences', () => {
    const three = () => snap([node('a'), node('b'), node('c')])

    it('binpack fills a node before using the next', () => {
      for (const p of plans(three(), instances('j', 4, {resources: res(2000, 4 * Gi)}))) {
        const used = Object.values(where(p, three()))
        expect(new Set(used).size).to.equal(2)
        expect(used.filter((n) => n === used[0]).length).to.equal(2)
      }
    })

    it('binpack prefers the node the request fits most tightly, across dimensions', () => {
      // a has lots of cpu left but little mem; b is balanced; the mem-heavy task fits b tightly.
      const s = snap([node('a', {allocated: res(0, 5 * Gi)}), node('b', {allocated: res(3000, 4 * Gi)})])
      for (const p of plans(s, [task('t', {resources: res(500, 3 * Gi)})])) expect(where(p, s)).to.deep.equal({t: 'b'})
    })

    it('spread puts each instance on the emptiest node', () => {
      for (const p of plans(three(), instances('j', 3, {resources: res(500, Gi), strategy: 'spread'}))) {
        expect(new Set(Object.values(where(p, three()))).size).to.equal(3)
      }
    })

    it('spread picks the node with the most free resources, however close', () => {
      const s = snap([node('a', {allocated: res(1000, Gi)}), node('b'), node('c', {allocated: res(0, 2 * Gi)})])
      for (const p of plans(s, [task('t', {strategy: 'spread'})])) expect(where(p, s)).to.deep.equal({t: 'b'})
      // The same within one bucket of the index (free amounts a few percent apart).
      const close = snap([node('a', {allocated: res(200, Mi)}), node('b', {allocated: res(50, Mi)}), node('c', {allocated: res(150, Mi)})])
      for (const p of plans(close, [task('t', {strategy: 'spread'})])) expect(where(p, close)).to.deep.equal({t: 'b'})
    })

    it('the cluster default strategy applies to tasks that do not choose', () => {
      for (const p of plans(three(), instances('j', 3, {resources: res(500, Gi)}), {defaultStrategy: 'spread'})) {
        expect(new Set(Object.values(where(p, three()))).size).to.equal(3)
      }
    })

    it('a preference wins over packing, and a task still places when no preferred node fits', () => {
      const s = snap([node('a', {labels: {zone: 'x'}, allocated: res(3000, 0)}), node('b', {labels: {zone: 'y'}}), node('c', {labels: {zone: 'x'}, allocated: res(3800, 0)})])
      for (const p of plans(s, instances('j', 2, {resources: res(1000, Gi), preferences: [{field: 'zone', value: 'x'}]}))) {
        expect(where(p, s)).to.deep.equal({'j.0': 'a', 'j.1': 'b'})
        expect(p.placements[0]!.score).to.be.greaterThan(1)
      }
    })

    it('weights of matched preferences add up', () => {
      // Binpack alone would pick a (fuller); the weights pick b.
      const s = snap([node('a', {labels: {zone: 'x', disk: 'hdd'}, allocated: res(2000, 2 * Gi)}), node('b', {labels: {zone: 'y', disk: 'ssd'}})])
      const prefs = [
        {field: 'zone', value: 'nowhere', weight: 5},
        {field: 'zone', value: 'x'},
        {field: 'disk', value: 'ssd', weight: 2},
      ]
      for (const p of plans(s, [task('t', {preferences: prefs})])) expect(where(p, s)).to.deep.equal({t: 'b'})
    })
  })

  describe('determinism', () => {
    it('the seed decides between equal nodes, and only the seed', () => {
      const s = snap(Array.from({length: 20}, (_, i) => node(`n${i}`)))
      const work = [task('t')]
      const chosen = new Set<string>()
      for (let seed = 0; seed < 20; seed++) {
        const p = schedule(s, work, {seed})
        expect(schedule(s, work, {seed})).to.deep.equal(p)
        chosen.add(p.placements[0]!.nodeId)
      }
      expect(chosen.size).to.be.greaterThan(3)
    })

    it('leaves the snapshot and the work untouched', () => {
      const s = snap([node('a'), node('b')], [{taskId: 'o', jobId: 'j', nodeId: 'id-a'}])
      const work = instances('j', 3, {ports: 1, constraints: [{field: 'hostname', operator: 'UNIQUE'}]})
      const before = JSON.stringify({s, work})
      schedule(s, work, {seed: 1})
      expect(JSON.stringify({s, work})).to.equal(before)
    })

    it('ignores placed tasks on nodes the snapshot no longer lists', () => {
      const s = snap([node('a')], [{taskId: 'o', jobId: 'j', nodeId: 'gone'}])
      expect(plan(s, [task('t', {jobId: 'j', constraints: [{field: 'rack', operator: 'UNLIKE', value: 'x'}, {field: 'hostname', operator: 'UNIQUE'}]})]).placements).to.have.length(1)
    })

    it('refuses malformed input: a bug in the caller, or a constraint from a user', () => {
      const s = snap([node('a')])
      expect(() => schedule(s, [task('t'), task('t')], {seed: 1})).to.throw(BugError, 'work lists task t twice')
      expect(() => schedule(s, [task('t', {resources: res(-1, 0)})], {seed: 1})).to.throw(BugError, /task t asks for cpuMilli=-1/)
      expect(() => schedule(s, [task('t')], {seed: 0.5})).to.throw(BugError, /seed must be a safe integer/)
      expect(() => schedule(snap([node('a'), node('a')]), [task('t')], {seed: 1})).to.throw(BugError, /node id id-a twice/)
      expect(() => schedule(s, [task('t', {constraints: [{field: 'rack', operator: 'LIKE', value: '('}]})], {seed: 1})).to.throw(UserError, /invalid regular expression/)
      expect(() => schedule(s, [task('t')], {seed: 1, portRange: {from: 2, to: 1}})).to.throw(UserError, /port range 2-1/)
    })

    it('keeps the order of work with order: as-given', () => {
      const s = snap([node('a', {allocatable: res(1000, 8 * Gi)})])
      const work = [task('small', {resources: res(500, Gi)}), task('big', {resources: res(1000, Gi)})]
      expect(plan(s, work, {order: 'as-given'}).placements.map((p) => p.taskId)).to.deep.equal(['small'])
      expect(plan(s, work).placements.map((p) => p.taskId)).to.deep.equal(['big'])
    })
  })
})

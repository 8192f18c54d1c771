import path from 'node:path'

import {expect} from 'chai'

import {ManualClock} from '../../../../src/core/clock.js'
import type {ServiceContext} from '../../../../src/core/context.js'
import {containerSpecHash, type JobSpec} from '../../../../src/core/model/job.js'
import type {Job} from '../../../../src/core/model/task.js'
import {runPass} from '../../../../src/core/reconcile/pass.js'
import {dependencyWaits} from '../../../../src/core/reconcile/plan.js'
import {exitCodeOfPass} from '../../../../src/cli/job-command.js'
import {ExitCode} from '../../../../src/core/errors.js'
import {setTeam, teamViews} from '../../../../src/core/services/teams.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {listEvents} from '../../../../src/core/state/events.js'
import {clusterId, insertJob, insertTask, listJobs, listTasks, updateJob} from '../../../../src/core/state/jobs.js'
import {findNode, insertNode, updateNodeAdminState} from '../../../../src/core/state/nodes.js'
import {writeSetting} from '../../../../src/core/state/settings.js'
import {renderPass} from '../../../../src/ui/presenters/pass.js'
import {Store} from '../../../../src/core/state/store.js'
import {containerName} from '../../../../src/runtime/index.js'
import {FakePodmanNode, isObservation} from '../../../helpers/fake-transport.js'
import {makeTempDir} from '../../../helpers/tmp.js'
import {aNode} from '../../ui/dashboard/fixtures.js'

const T0 = 1_750_000_000_000

function jobRecord(spec: JobSpec, now: number): Job {
  return {id: `job-${spec.name}`, name: spec.name, kind: spec.kind, spec, specHash: containerSpecHash(spec), instances: spec.instances, generation: 0, state: 'active', createdAt: now, updatedAt: now}
}

describe('core/reconcile/pass (runPass on fake podman nodes)', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: Store
  let clock: ManualClock
  let ctx: ServiceContext
  let nodes: Map<string, FakePodmanNode>

  beforeEach(() => {
    tmp = makeTempDir()
    clock = new ManualClock(T0)
    store = Store.open(path.join(tmp.dir, 'state.db'), clock)
    nodes = new Map(['n1', 'n2'].map((name) => [name, new FakePodmanNode(`root@${name}:22`)]))
    store.write(() => {
      for (const name of nodes.keys()) insertNode(store, aNode(name, {stateSince: T0, usage: null, inventoriedAt: T0, createdAt: T0, lastSeenAt: T0}))
    })
    let n = 0
    ctx = {store, clock, newId: () => `t${String(++n).padStart(4, '0')}-0000-4000-8000-000000000000`, connect: (spec) => nodes.get(spec.host)!.transport}
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  const addJob = (input: Record<string, unknown>): Job => {
    const job = jobRecord(validateJobSpec({image: 'localhost/app:1', cpus: 0.5, mem: '256Mi', ...input}, 'test'), clock.now())
    store.write(() => insertJob(store, job))
    return job
  }

  const live = () => listTasks(store, {live: true})
  const containersOn = (name: string) => [...nodes.get(name)!.containers.keys()].sort()

  it('places, records and starts missing instances; the next pass changes nothing', async () => {
    addJob({name: 'web', instances: 2})
    const first = await runPass(ctx, {seed: 7})
    expect(first.seed).to.equal(7)
    expect(first.actions.map((a) => a.kind).sort()).to.deep.equal(['place', 'place', 'start', 'start'])
    expect(live().map((t) => t.state)).to.deep.equal(['running', 'running'])
    expect([...containersOn('n1'), ...containersOn('n2')].sort()).to.deep.equal(live().map((t) => t.containerName).sort())
    clock.advance(1_000)
    const second = await runPass(ctx, {seed: 7})
    expect(second.unchanged).to.equal(true)
  })

  it('health: the probe rides along every 30 s; a read-only store keeps new work off its node; a critical condition is drained by --auto-drain when the work fits', async () => {
    const ro = ['', '@@@clusterctl:df', '/var/lib/containers/storage /dev/sdb 1000000 10 999990 1% /var/lib/containers', '@@@clusterctl:mounts', '/ ext4 rw', '/var/lib/containers xfs ro,relatime', '@@@clusterctl:end'].join('\n')
    nodes.get('n1')!.healthProbe = ro
    await runPass(ctx, {seed: 1})
    expect(nodes.get('n1')!.probed).to.equal(1)
    expect(findNode(store, 'n1')!.conditions.map((c) => `${c.type} ${c.reason}`)).to.deep.equal(['ReadOnlyFilesystem MountedReadOnly'])
    expect(findNode(store, 'n2')!.conditions).to.deep.equal([])
    expect(listEvents(store, {}).some((e) => e.type === 'node.condition.raised' && e.subject === 'n1')).to.equal(true)
    // Not due again within 30 s; due after.
    clock.advance(10_000)
    addJob({name: 'web', instances: 2})
    const placed = await runPass(ctx, {seed: 1})
    expect(nodes.get('n1')!.probed).to.equal(1)
    expect(live().map((t) => t.nodeName)).to.deep.equal(['n2', 'n2'])
    expect(placed.pending).to.deep.equal([])
    // A second name for n1's machine (one observation per machine): never probed, so the machine's probe is sent at once.
    store.write(() => insertNode(store, aNode('n1b', {stateSince: T0, usage: null, inventoriedAt: T0, createdAt: T0, lastSeenAt: T0, address: {host: 'n1', port: null, user: 'root'}, resolvedAddress: 'root@n1:22'})))
    clock.advance(1_000)
    await runPass(ctx, {seed: 1})
    expect(nodes.get('n1')!.probed).to.equal(2)
    expect(findNode(store, 'n1b')!.conditions.map((c) => c.type)).to.deep.equal(['ReadOnlyFilesystem'])
    store.write(() => store.db.prepare(`DELETE FROM nodes WHERE name = 'n1b'`).run())
    clock.advance(30_000)
    await runPass(ctx, {seed: 1})
    expect(nodes.get('n1')!.probed).to.equal(3)

    // A GPU fell off the bus on n2 (critical): --auto-drain moves its work to n1 once the store is writable again... but it is
    // still read-only (n1 takes no new work), so what-if says it would not fit: n2 is only cordoned, with the reason.
    nodes.get('n2')!.healthProbe = ['', '@@@clusterctl:uptime', '1000.0 1.0', '@@@clusterctl:kernel', '[999.000000] NVRM: Xid (PCI:0000:3b:00): 79, pid=1, GPU has fallen off the bus.', '@@@clusterctl:end'].join('\n')
    clock.advance(30_000)
    const cordon = await runPass(ctx, {seed: 1, autoDrain: true})
    expect(cordon.autoDrain).to.deep.include({kind: 'cordon', node: 'n2'})
    expect(cordon.autoDrain!.why).to.match(/not drained: what-if says 2 task\(s\) would not fit elsewhere/)
    expect(findNode(store, 'n2')!.adminState).to.equal('cordoned')
    // n1's store is writable again (the condition clears after 5 min without it): then n2 is drained.
    nodes.get('n1')!.healthProbe = ''
    clock.advance(6 * 60_000)
    const drain = await runPass(ctx, {seed: 1, autoDrain: true})
    expect(findNode(store, 'n1')!.conditions).to.deep.equal([])
    expect(drain.autoDrain).to.deep.include({kind: 'drain', node: 'n2'})
    // Make-before-break in the same pass on these instant fake nodes: the replacements run on n1, n2 is empty and stays cordoned.
    expect(live().map((t) => t.nodeName)).to.deep.equal(['n1', 'n1'])
    expect(findNode(store, 'n2')!.adminState).to.equal('cordoned')
    expect(listEvents(store, {}).filter((e) => e.type.startsWith('node.auto-')).map((e) => e.type)).to.deep.equal(['node.auto-cordon', 'node.auto-drain'])
  })

  it('teams: work beyond a quota stays pending with the reason; the scarce cluster goes to the team with the lower dominant share', async () => {
    setTeam(ctx, 'data', {quota: {cpuMilli: 1000}})
    addJob({name: 'etl', team: 'data', instances: 3})
    const first = await runPass(ctx, {seed: 1})
    expect(first.pending.map((p) => p.reason)).to.deep.equal(['team data over quota: cpus 1/1'])
    expect(live().filter((t) => t.state === 'running')).to.have.length(2)
    const view = teamViews(ctx).find((v) => v.team.name === 'data')!
    expect([view.running, view.pending, view.allocated.cpuMilli]).to.deep.equal([2, 1, 1000])
    expect(listEvents(store, {}).map((e) => e.message)).to.include('etl.2: team data over quota: cpus 1/1')
    // The cluster has 8 cpus; data holds 1 (1/8), web holds none: of the next two 3-cpu tasks, web's goes first.
    setTeam(ctx, 'data', {quota: null})
    addJob({name: 'web', instances: 1, cpus: 3, mem: '64Mi'})
    addJob({name: 'big', team: 'data', instances: 2, cpus: 3, mem: '64Mi'})
    clock.advance(1000)
    const second = await runPass(ctx, {seed: 1})
    expect(second.pending.map((p) => `${p.job}.${p.instance}`)).to.deep.equal(['big.1'])
    expect(second.actions.filter((a) => a.kind === 'place').map((a) => a.job).sort()).to.deep.equal(['big', 'etl', 'web'])
  })

  it('preemption: after the delay, a pending task stops lower-priority tasks on one node and takes their place', async () => {
    // n1 and n2 have 4 cpus each: 8 low-priority batch tasks of 1 cpu fill them.
    addJob({name: 'low', kind: 'batch', instances: 8, cpus: 1, mem: '64Mi', priority: 20})
    await runPass(ctx, {seed: 1})
    addJob({name: 'opt-out', instances: 1, cpus: 2, mem: '64Mi', priority: 90, preemption: 'never'})
    addJob({name: 'high', instances: 1, cpus: 2, mem: '64Mi', priority: 80})
    clock.advance(1000)
    const early = await runPass(ctx, {seed: 1})
    expect(early.pending.map((p) => p.job).sort()).to.deep.equal(['high', 'opt-out'])
    expect(early.actions.filter((a) => a.kind === 'preempt')).to.deep.equal([])
    clock.advance(180_000)
    const dry = await runPass(ctx, {seed: 1, dryRun: true})
    expect(dry.actions.filter((a) => a.kind === 'preempt').map((a) => a.detail)).to.deep.equal(['preempted by high.0 (priority 80)', 'preempted by high.0 (priority 80)'])
    expect(live().filter((t) => t.jobName === 'low' && t.state === 'running')).to.have.length(8)
    const pass = await runPass(ctx, {seed: 1})
    const victims = pass.actions.filter((a) => a.kind === 'preempt')
    expect(victims).to.have.length(2)
    expect(new Set(victims.map((a) => a.node)).size).to.equal(1)
    expect(pass.pending.map((p) => p.job)).to.deep.equal(['opt-out'])
    const high = live().find((t) => t.jobName === 'high')!
    expect([high.state, high.nodeName]).to.deep.equal(['running', victims[0]!.node])
    expect(listTasks(store, {}).filter((t) => t.state === 'killed').map((t) => t.reason)).to.deep.equal(['preempted by high.0 (priority 80)', 'preempted by high.0 (priority 80)'])
    const event = listEvents(store, {}).find((e) => e.type === 'task.preempts')!
    expect(event.message).to.match(/^high\.0: preempts low\.\d \(priority 20\), low\.\d \(priority 20\) on n\d/)
  })

  it('preemption within disruption budgets; `preemption: force` breaks a budget only when nothing else makes room, and says so', async () => {
    // n1 and n2 have 4 cpus each: a low-priority service of 8 x 1 cpu fills them; its budget (maxUnavailable 0) lets none go
    addJob({name: 'low', instances: 8, cpus: 1, mem: '64Mi', priority: 20})
    await runPass(ctx, {seed: 1})
    addJob({name: 'polite', instances: 1, cpus: 2, mem: '64Mi', priority: 80})
    addJob({name: 'urgent', instances: 1, cpus: 2, mem: '64Mi', priority: 90, preemption: 'force'})
    clock.advance(1000)
    const early = await runPass(ctx, {seed: 1})
    expect(early.pending.map((p) => p.job).sort()).to.deep.equal(['polite', 'urgent'])
    clock.advance(180_000)
    const pass = await runPass(ctx, {seed: 1})
    expect(pass.pending.map((p) => p.job)).to.deep.equal(['polite'])
    const victims = pass.actions.filter((a) => a.kind === 'preempt')
    expect(victims.map((a) => a.detail)).to.deep.equal(['preempted by urgent.0 (priority 90) beyond its disruption budget (preemption: force)', 'preempted by urgent.0 (priority 90) beyond its disruption budget (preemption: force)'])
    expect(live().find((t) => t.jobName === 'urgent')!.state).to.equal('running')
    const event = listEvents(store, {}).find((e) => e.type === 'task.preempts')!
    expect(event.message).to.match(/; beyond the disruption budget of low \(preemption: force\)$/)
  })

  it('start order (dependsOn): a job waits while what it depends on is not all ready, says why (exit unsatisfied), then starts; its restarts never wait', async () => {
    addJob({name: 'db', instances: 2})
    addJob({name: 'web', instances: 1, dependsOn: ['db']})
    const first = await runPass(ctx, {seed: 1})
    // db is placed and started in this pass, but not yet seen running: web waits
    expect(first.waiting).to.deep.equal([{job: 'web', why: 'waiting for its dependencies: db 0/2 ready'}])
    expect(live().map((t) => t.jobName)).to.deep.equal(['db', 'db'])
    expect(exitCodeOfPass(first, ['web'])).to.equal(ExitCode.unsatisfied)
    clock.advance(1000)
    const second = await runPass(ctx, {seed: 1})
    expect(second.waiting).to.equal(undefined)
    expect(live().filter((t) => t.jobName === 'web')).to.have.length(1)
    // once web runs, it no longer waits for db (a db outage must not take web down too)
    expect(dependencyWaits(listJobs(store), live().map((t) => (t.jobName === 'db' ? {...t, state: 'failed' as const} : t)), clock.now()).size).to.equal(0)
  })

  it('two names for one host (the lab set-up): distinct host ports, and neither takes the other\'s container for an orphan', async () => {
    // lab-a and lab-b are one machine: one address, one podman, one set of containers
    const lab = new FakePodmanNode('root@lab:22')
    nodes.set('lab', lab)
    store.write(() => {
      for (const name of ['lab-a', 'lab-b']) insertNode(store, aNode(name, {stateSince: T0, usage: null, inventoriedAt: T0, createdAt: T0, lastSeenAt: T0, address: {host: 'lab', port: null, user: 'root'}, resolvedAddress: 'root@lab:22'}))
      updateNodeAdminState(store, 'node-n1', 'cordoned', T0)
      updateNodeAdminState(store, 'node-n2', 'cordoned', T0)
    })
    addJob({name: 'web', instances: 2, ports: [0], constraints: ['hostname:UNIQUE']})
    const first = await runPass(ctx, {seed: 3})
    expect(first.actions.filter((a) => a.kind === 'start').map((a) => a.ok)).to.deep.equal([true, true])
    const tasks = live()
    expect(tasks.map((t) => t.nodeName).sort()).to.deep.equal(['lab-a', 'lab-b'])
    expect(new Set(tasks.map((t) => t.hostPorts[0]!.hostPort)).size).to.equal(2)
    clock.advance(31_000)
    await runPass(ctx, {seed: 3})
    clock.advance(31_000)
    const later = await runPass(ctx, {seed: 3})
    expect(later.actions.filter((a) => a.kind === 'remove-orphan')).to.deep.equal([])
    expect([...lab.containers.keys()].sort()).to.deep.equal(tasks.map((t) => t.containerName).sort())
  })

  it('a controller that died between recording a placement and starting it: the next pass starts the recorded container (or adopts it)', async () => {
    const job = addJob({name: 'web', instances: 2})
    const cluster = clusterId(store)
    const staged = (instance: number) => {
      const id = `s${instance}000000-0000-4000-8000-000000000000`
      return {id, jobId: job.id, instance, nodeId: 'node-n1', state: 'staging' as const, desired: 'run' as const, health: 'unknown' as const, healthFailures: 0, healthCheckedAt: null, healthMessage: null, replaces: null, containerName: containerName({clusterId: cluster, jobName: 'web', instance, taskId: id}), hostPorts: [], specHash: job.specHash, reason: null, reasonData: null, restarts: 0, exitCode: null, createdAt: T0, updatedAt: T0, startedAt: null, finishedAt: null}
    }
    const [a, b] = [staged(0), staged(1)]
    store.write(() => {
      insertTask(store, a)
      insertTask(store, b)
    })
    // b's container was started before the crash; a's never was.
    nodes.get('n1')!.containers.set(b.containerName, {name: b.containerName, state: 'running', exitCode: null, labels: {'io.clusterctl.cluster': cluster, 'io.clusterctl.task': b.id}, image: 'localhost/app:1', runArgs: []})
    const report = await runPass(ctx, {seed: 1})
    expect(report.actions.map((x) => `${x.kind} ${x.taskId}`).sort()).to.deep.equal([`adopt ${b.id}`, `start ${a.id}`])
    expect(live().map((t) => [t.id, t.state])).to.deep.equal([[a.id, 'running'], [b.id, 'running']])
    expect(containersOn('n1')).to.deep.equal([a.containerName, b.containerName].sort())
    expect(containersOn('n2')).to.deep.equal([]) // no duplicate elsewhere
  })

  it('a pass scoped to stopped jobs (stop, rm) removes their ended containers at once and leaves every other container alone', async () => {
    const batch = addJob({name: 'batch', kind: 'batch', instances: 1, constraints: ['hostname:IS:n1']})
    addJob({name: 'web', instances: 1, constraints: ['hostname:IS:n1']})
    await runPass(ctx, {seed: 1})
    const batchTask = live().find((t) => t.jobName === 'batch')!
    // The batch instance ends; its container stays (an orphan within the grace, for logs).
    nodes.get('n1')!.containers.get(batchTask.containerName!)!.state = 'exited'
    clock.advance(1_000)
    await runPass(ctx, {seed: 1})
    expect(containersOn('n1')).to.include(batchTask.containerName)
    // A stranger's container on the node (another job, long gone) is not the scoped pass's business.
    nodes.get('n1')!.containers.set('cctl-old-0-deadbeef', {name: 'cctl-old-0-deadbeef', state: 'exited', exitCode: 0, labels: {'io.clusterctl.cluster': clusterId(store), 'io.clusterctl.job': 'old'}, image: 'localhost/app:1', runArgs: []})
    store.write(() => updateJob(store, {...batch, state: 'stopped'}, clock.now()))
    clock.advance(1_000)
    const report = await runPass(ctx, {seed: 1, jobs: [batch.id]})
    expect(report.actions.filter((a) => a.kind === 'remove-orphan').map((a) => a.detail)).to.deep.equal([`removed ${batchTask.containerName} (its job is stopped)`])
    expect(containersOn('n1')).to.not.include(batchTask.containerName)
    expect(containersOn('n1')).to.include('cctl-old-0-deadbeef')
    expect(live().map((t) => t.jobName)).to.deep.equal(['web'])
  })

  it('networks: a job\'s containers join its network under their aliases; a network nothing on a node uses any more is removed, a network in use is not (docs/networks.md)', async () => {
    const web = addJob({name: 'web', instances: 2, network: 'backend', constraints: ['hostname:IS:n1']})
    addJob({name: 'db', instances: 1, network: 'data', constraints: ['hostname:IS:n1']})
    await runPass(ctx, {seed: 1})
    const n1 = nodes.get('n1')!
    expect([...n1.networks.keys()].sort()).to.deep.equal(['backend', 'data'])
    expect(n1.networks.get('backend')).to.deep.equal({'io.clusterctl.cluster': clusterId(store)})
    const web0 = [...n1.containers.values()].find((c) => c.labels['io.clusterctl.job'] === 'web' && c.labels['io.clusterctl.instance'] === '0')!
    expect(web0.runArgs.join(' ')).to.include('--network backend --network-alias web-0 --network-alias web')
    // A network someone else's container of this cluster uses stays, whatever the jobs say.
    n1.networks.set('legacy', {})
    n1.containers.set('cctl-old-0-deadbeef', {name: 'cctl-old-0-deadbeef', state: 'exited', exitCode: 0, labels: {'io.clusterctl.cluster': clusterId(store), 'io.clusterctl.job': 'old'}, image: 'localhost/app:1', runArgs: [], network: 'legacy'})
    clock.advance(1_000)
    expect((await runPass(ctx, {seed: 1})).actions.filter((a) => a.kind === 'remove-network')).to.deep.equal([])

    // The job goes (rm): its pass stops its containers and removes its network; the other job's stays.
    store.write(() => updateJob(store, {...web, state: 'stopped'}, clock.now()))
    clock.advance(1_000)
    const report = await runPass(ctx, {seed: 1, jobs: [web.id]})
    expect(report.actions.filter((a) => a.kind === 'remove-network').map((a) => [a.job, a.node, a.ok])).to.deep.equal([['backend', 'n1', true]])
    expect(renderPass(report, false)).to.match(/removed network\s+backend\s+on n1\s+no container or task on the node uses it any more/)
    expect([...n1.networks.keys()].sort()).to.deep.equal(['data', 'legacy'])
    expect(listEvents(store, {}).some((e) => e.type === 'network.removed' && e.subject === 'n1')).to.equal(true)
  })

  it('a node that does not answer: reported unobserved, nothing concluded about its tasks, no new work for it', async () => {
    addJob({name: 'web', instances: 1, constraints: ['hostname:IS:n2']})
    await runPass(ctx, {seed: 1})
    const [task] = live()
    expect(task).to.deep.include({nodeName: 'n2', state: 'running'})
    nodes.get('n2')!.down = true
    clock.advance(1_000)
    addJob({name: 'api', instances: 2})
    const report = await runPass(ctx, {seed: 1})
    expect(report.unobserved.map((u) => u.node)).to.deep.equal(['n2'])
    expect(report.actions.filter((x) => x.kind === 'end' || x.kind === 'unreachable')).to.deep.equal([])
    expect(listTasks(store, {live: true}).find((t) => t.id === task!.id)).to.deep.include({state: 'running'})
    expect(report.actions.filter((x) => x.kind === 'place').map((x) => x.node)).to.deep.equal(['n1', 'n1'])
  })

  /** The job added just before runs on n1 (n2 cordoned meanwhile); then n1 drains: the actions of each pass until it is drained (3 at most). */
  const drainN1 = async () => {
    store.write(() => updateNodeAdminState(store, 'node-n2', 'cordoned', clock.now()))
    await runPass(ctx, {seed: 1, moves: false})
    const [old] = live()
    expect(old).to.deep.include({nodeName: 'n1', state: 'running'})
    store.write(() => {
      updateNodeAdminState(store, 'node-n2', 'ready', clock.now())
      updateNodeAdminState(store, 'node-n1', 'draining', clock.now())
    })
    const passes = []
    for (let i = 0; i < 3 && findNode(store, 'n1')!.adminState === 'draining'; i++) {
      clock.advance(1_000)
      passes.push((await runPass(ctx, {seed: 1, moves: false})).actions)
    }

    return {old, passes}
  }

  it('a drain finishes: the replacement starts elsewhere, the old task stops (make-before-break), the node stays cordoned', async () => {
    addJob({name: 'web', instances: 1})
    const {old, passes} = await drainN1()
    expect(passes[0]!.map((x) => `${x.kind} ${x.node}`)).to.deep.equal(['place n2', 'start n2', 'stop n1'])
    expect(findNode(store, 'n1')!.adminState).to.equal('cordoned')
    expect(listEvents(store).map((e) => e.type)).to.include('node.drained')
    expect(containersOn('n1')).to.deep.equal([])
    const [fresh] = live()
    expect(fresh).to.deep.include({nodeName: 'n2', state: 'running', replaces: old!.id})
  })

  it('a drain stops a task whose local volume is on the node (clean, before maintenance): the drain finishes, the instance waits for the node, and runs there again after uncordon', async () => {
    addJob({name: 'db', instances: 1, volumes: [{name: 'data', mount: '/data', source: {local: {size: '1Gi'}}}]})
    const {passes} = await drainN1()
    expect(passes[0]!.map((x) => `${x.kind} ${x.node} ${x.detail}`)).to.deep.equal(['stop n1 drain of n1: its volume data-0 is there; `clusterctl node uncordon n1` runs it there again, or `clusterctl volume forget data-0 --new-empty` moves it without its data'])
    expect(findNode(store, 'n1')!.adminState).to.equal('cordoned')
    expect(containersOn('n1')).to.deep.equal([])
    expect(containersOn('n2')).to.deep.equal([])
    clock.advance(1_000)
    await runPass(ctx, {seed: 1, moves: false})
    const [waiting] = live()
    expect(waiting).to.deep.include({state: 'pending', nodeName: null})
    expect(waiting!.reason).to.match(/^blocked: volume data-0 is on n1 \(cordoned \d+s\)$/)
    store.write(() => updateNodeAdminState(store, 'node-n1', 'ready', clock.now()))
    clock.advance(1_000)
    await runPass(ctx, {seed: 1, moves: false})
    expect(live().map((t) => [t.nodeName, t.state])).to.deep.equal([['n1', 'running']])
  })

  it('consolidation (cluster setting): a quiet cluster spread over two nodes moves a task so one empties; --dry-run shows it; off by default', async () => {
    // a lands on n1 while n2 is cordoned, b on n2 while n1 is: each node holds one small task
    store.write(() => updateNodeAdminState(store, 'node-n2', 'cordoned', clock.now()))
    addJob({name: 'a', instances: 1})
    await runPass(ctx, {seed: 1, moves: false})
    store.write(() => {
      updateNodeAdminState(store, 'node-n2', 'ready', clock.now())
      updateNodeAdminState(store, 'node-n1', 'cordoned', clock.now())
    })
    addJob({name: 'b', instances: 1})
    clock.advance(1_000)
    await runPass(ctx, {seed: 1, moves: false})
    store.write(() => updateNodeAdminState(store, 'node-n1', 'ready', clock.now()))
    expect(live().map((t) => t.nodeName).sort()).to.deep.equal(['n1', 'n2'])
    clock.advance(1_000)
    const off = await runPass(ctx, {seed: 1, dryRun: true})
    expect(off.actions.filter((x) => x.kind === 'move')).to.deep.equal([])
    expect(off.totals).to.deep.equal({placed: 0, pending: 0, nodesUsed: 2})
    expect(renderPass(off, false).split('\n').at(-1)).to.equal('totals: 0 placed, 0 pending, 2 nodes used')

    store.write(() => writeSetting(store, 'consolidate', true))
    const dry = await runPass(ctx, {seed: 1, dryRun: true})
    const planned = dry.actions.filter((x) => x.kind === 'move')
    expect(planned).to.have.length(1)
    expect(planned[0]!.detail).to.match(/consolidation: frees n[12] \(1 node in 1 move\)/)
    for (let i = 0; i < 3; i++) {
      clock.advance(1_000)
      await runPass(ctx, {seed: 1})
    }
    expect(new Set(live().map((t) => t.nodeName)).size).to.equal(1)
    expect(live().map((t) => t.state)).to.deep.equal(['running', 'running'])
  })

  it('many names for one host are observed in one round trip per pass, and each sees its own tasks', async () => {
    const lab = new FakePodmanNode('root@lab:22')
    nodes.set('lab', lab)
    store.write(() => {
      for (let i = 0; i < 20; i++) insertNode(store, aNode(`lab-${i}`, {stateSince: T0, usage: null, inventoriedAt: T0, createdAt: T0, lastSeenAt: T0, address: {host: 'lab', port: null, user: 'root'}, resolvedAddress: 'root@lab:22'}))
      updateNodeAdminState(store, 'node-n1', 'cordoned', T0)
      updateNodeAdminState(store, 'node-n2', 'cordoned', T0)
    })
    addJob({name: 'web', instances: 20, constraints: ['hostname:UNIQUE']})
    const observations = () => lab.transport.calls.filter((c) => isObservation(c.argv)).length
    const first = await runPass(ctx, {seed: 3})
    expect(first.unobserved).to.deep.equal([])
    expect(observations()).to.equal(1)
    expect(new Set(live().map((t) => t.nodeName)).size).to.equal(20)
    clock.advance(1_000)
    const second = await runPass(ctx, {seed: 3})
    expect(observations()).to.equal(2)
    expect(second.unchanged).to.equal(true)
    expect(live().map((t) => t.state)).to.deep.equal(Array.from({length: 20}, () => 'running'))
  })
})

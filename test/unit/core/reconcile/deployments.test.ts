/**
 * Deployments driven by runPass on fake podman nodes: bounds held at every pass, a
 * controller "killed" (its store closed and opened again) resumes the rollout from the
 * recorded and observed state, a failing version rolls back to the last stable one.
 */
import path from 'node:path'

import {expect} from 'chai'

import {ManualClock} from '../../../../src/core/clock.js'
import type {ServiceContext} from '../../../../src/core/context.js'
import {runPass} from '../../../../src/core/reconcile/pass.js'
import {clusterSnapshot} from '../../../../src/core/services/dashboard.js'
import {followRollout, promoteRollout, rolloutHistory, setRolloutPaused, undoRollout} from '../../../../src/core/services/deployments.js'
import {applySpecs} from '../../../../src/core/services/jobs.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {listDeployments} from '../../../../src/core/state/deployments.js'
import {listEvents} from '../../../../src/core/state/events.js'
import {findJob, listTasks, updateTask} from '../../../../src/core/state/jobs.js'
import {insertNode} from '../../../../src/core/state/nodes.js'
import {Store} from '../../../../src/core/state/store.js'
import {rolloutBrief} from '../../../../src/ui/presenters/deployments.js'
import {FakePodmanNode} from '../../../helpers/fake-transport.js'
import {makeTempDir} from '../../../helpers/tmp.js'
import {aNode} from '../../ui/dashboard/fixtures.js'

const T0 = 1_750_000_000_000

describe('core/reconcile deployments (runPass on fake podman nodes)', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let file: string
  let clock: ManualClock
  let ctx: ServiceContext
  let nodes: Map<string, FakePodmanNode>
  let n = 0

  const open = (): ServiceContext => ({store: Store.open(file, clock), clock, newId: () => `t${String(++n).padStart(4, '0')}-0000-4000-8000-000000000000`, connect: (spec) => nodes.get(spec.host)!.transport})

  beforeEach(() => {
    tmp = makeTempDir()
    file = path.join(tmp.dir, 'state.db')
    clock = new ManualClock(T0)
    nodes = new Map(['n1', 'n2'].map((name) => [name, new FakePodmanNode(`root@${name}:22`)]))
    ctx = open()
    ctx.store.write(() => {
      for (const name of nodes.keys()) insertNode(ctx.store, aNode(name, {stateSince: T0, usage: null, inventoriedAt: T0, createdAt: T0, lastSeenAt: T0}))
    })
  })
  afterEach(() => {
    ctx.store.close()
    tmp.cleanup()
  })

  const spec = (greeting: string) => validateJobSpec({name: 'web', image: 'localhost/app:1', cpus: 0.1, mem: '64Mi', instances: 4, env: {GREETING: greeting}, upgrade: {maxUnavailable: 1, maxSurge: 0, minHealthyTime: '3s'}}, 'test')
  const containers = () => [...nodes.values()].flatMap((node) => [...node.containers.values()])
  const running = () => containers().filter((c) => c.state === 'running')
  const versions = () => listDeployments(ctx.store, findJob(ctx.store, 'web')!.id).map((d) => `v${d.version}:${d.cause}:${d.state}`)

  /** Passes one second apart until `done`, checking the bounds after every one. */
  async function passUntil(done: () => boolean, options: {minRunning: number; max: number; during?: (pass: number) => void | Promise<void>}): Promise<number> {
    for (let pass = 1; pass <= 60; pass++) {
      await runPass(ctx, {seed: 1})
      expect(running().length, `pass ${pass}: running containers`).to.be.at.most(options.max)
      expect(running().length, `pass ${pass}: running`).to.be.at.least(options.minRunning)
      if (done()) return pass
      await options.during?.(pass)
      clock.advance(1_000)
    }

    throw new Error(`not done after 60 passes: ${versions().join(' ')}`)
  }

  it('a new spec rolls out within maxUnavailable 1 / maxSurge 0, resumes after the controller is killed mid-way, and is recorded as succeeded', async () => {
    await applySpecs(ctx, [spec('one')], {noStart: true})
    await passUntil(() => versions()[0] === 'v1:create:succeeded', {minRunning: 0, max: 4})
    expect(running()).to.have.length(4)

    const applied = await applySpecs(ctx, [spec('two')], {noStart: true})
    expect(applied.jobs[0]!.change).to.equal('updated')
    expect(versions()).to.deep.equal(['v2:apply:running', 'v1:create:succeeded'])
    const hash = findJob(ctx.store, 'web')!.specHash
    const passes = await passUntil(() => versions()[0] === 'v2:apply:succeeded', {
      minRunning: 3,
      max: 4,
      during: (pass) => {
        if (pass !== 4) return
        // kill -9: nothing in memory survives; the next controller reads the state file
        ctx.store.close()
        ctx = open()
      },
    })
    expect(passes).to.be.greaterThan(4)
    expect(running().map((c) => c.labels['io.clusterctl.spec-hash'] ?? c.runArgs.join(' ')).every((h) => h.includes(hash))).to.equal(true)
    expect(listTasks(ctx.store, {live: true}).map((t) => t.specHash)).to.deep.equal([hash, hash, hash, hash])
  })

  it('a version whose containers fail rolls back to the last stable one, never below the bound', async () => {
    await applySpecs(ctx, [spec('one')], {noStart: true})
    await passUntil(() => versions()[0] === 'v1:create:succeeded', {minRunning: 0, max: 4})
    const good = findJob(ctx.store, 'web')!.specHash
    await applySpecs(ctx, [spec('broken')], {noStart: true})
    const bad = findJob(ctx.store, 'web')!.specHash
    await passUntil(() => versions()[0] === 'v3:rollback:succeeded', {
      minRunning: 3,
      max: 4,
      // the new version's containers exit at once
      during: () => {
        for (const node of nodes.values()) for (const c of node.containers.values()) if (c.state === 'running' && c.runArgs.includes('GREETING=broken')) Object.assign(c, {state: 'exited', exitCode: 1})
      },
    })
    expect(versions()).to.deep.equal(['v3:rollback:succeeded', 'v2:apply:failed', 'v1:create:succeeded'])
    const job = findJob(ctx.store, 'web')!
    expect(job.specHash).to.equal(good)
    expect(job.spec.env).to.deep.equal({GREETING: 'one'})
    expect(listTasks(ctx.store, {live: true}).map((t) => t.specHash)).to.deep.equal([good, good, good, good])
    expect(listDeployments(ctx.store, job.id)[1]).to.deep.include({reason: '1 new instance failed (failure budget 0)', rolledBackTo: 1})
    expect(bad).not.to.equal(good)
  })

  it('events tell each version: started, superseded, failed, the rollback started and rolled back; the dashboard snapshot shows the open rollout and the versions', async () => {
    await applySpecs(ctx, [spec('one')], {noStart: true})
    await passUntil(() => versions()[0] === 'v1:create:succeeded', {minRunning: 0, max: 4})
    await applySpecs(ctx, [spec('two')], {noStart: true})
    await applySpecs(ctx, [spec('broken')], {noStart: true})
    expect(versions()).to.deep.equal(['v3:apply:running', 'v2:apply:superseded', 'v1:create:succeeded'])
    const before = clusterSnapshot(ctx, 0, {job: 'web'})
    expect(before.rollouts.map((r) => `${r.job} v${r.deployment!.version} ${rolloutBrief(r, spec('broken').upgrade)}`)).to.deep.equal(['web v3 rolling v3 0/4'])
    expect(before.jobDeployments!.history.map((d) => d.version)).to.deep.equal([3, 2, 1])
    expect(clusterSnapshot(ctx).jobDeployments).to.equal(null)
    let rollingBack = ''
    await passUntil(() => versions()[0] === 'v4:rollback:succeeded', {
      minRunning: 3,
      max: 4,
      during: () => {
        for (const node of nodes.values()) for (const c of node.containers.values()) if (c.state === 'running' && c.runArgs.includes('GREETING=broken')) Object.assign(c, {state: 'exited', exitCode: 1})
        const open = clusterSnapshot(ctx).rollouts[0]
        if (open?.deployment?.cause === 'rollback') rollingBack = rolloutBrief(open, spec('one').upgrade)
      },
    })
    expect(rollingBack).to.match(/^rolling back to v1 [0-4]\/4$/)
    expect(clusterSnapshot(ctx).rollouts).to.deep.equal([])
    const events = listEvents(ctx.store).filter((e) => e.type.startsWith('deployment.'))
    expect(events.map((e) => `${e.type} v${e.data.version as number}`)).to.deep.equal(['deployment.succeeded v1', 'deployment.started v2', 'deployment.superseded v2', 'deployment.started v3', 'deployment.failed v3', 'deployment.started v4', 'deployment.rolled-back v4'])
    expect(events[2]!.message).to.equal('version 2 superseded by version 3 (apply), which goes on from the instances running now')
    expect(events[5]!.message).to.equal('version 4 (rollback): back to version 1')
    expect(events[6]!.message).to.match(/^version 4 rolled out: back to version 1: /)
  })

  it('rollout commands: follow drives the passes to the end; pause holds, resume continues; undo goes back to the last stable version', async () => {
    const fast = (greeting: string) => validateJobSpec({name: 'web', image: 'localhost/app:1', cpus: 0.1, mem: '64Mi', instances: 2, env: {GREETING: greeting}, upgrade: {minHealthyTime: 0}}, 'test')
    await applySpecs(ctx, [fast('one')], {noStart: true})
    expect(await followRollout(ctx, 'web', {timeoutMs: 60_000})).to.deep.include({version: 1, outcome: 'succeeded'})
    await applySpecs(ctx, [fast('two')], {noStart: true})
    expect(setRolloutPaused(ctx, 'web', true)).to.deep.include({changed: true})
    await runPass(ctx, {seed: 1})
    expect(running().filter((c) => c.runArgs.includes('GREETING=two'))).to.deep.equal([])
    const paused = await followRollout(ctx, 'web', {timeoutMs: 60_000})
    expect(paused).to.deep.include({version: 2, outcome: 'paused'})
    setRolloutPaused(ctx, 'web', false)
    expect(await followRollout(ctx, 'web', {timeoutMs: 60_000})).to.deep.include({version: 2, outcome: 'succeeded'})
    expect(running().every((c) => c.runArgs.includes('GREETING=two'))).to.equal(true)
    const undo = await undoRollout(ctx, 'web')
    expect(undo.deployment).to.deep.include({version: 3, cause: 'undo'})
    expect(await followRollout(ctx, 'web', {timeoutMs: 60_000})).to.deep.include({version: 3, outcome: 'succeeded'})
    expect(running().map((c) => c.runArgs.includes('GREETING=one'))).to.deep.equal([true, true])
    expect(rolloutHistory(ctx, 'web').map((d) => `${d.version}:${d.cause}:${d.state}`)).to.deep.equal(['3:undo:succeeded', '2:apply:succeeded', '1:create:succeeded'])
    expect(() => setRolloutPaused(ctx, 'web', true)).to.throw(/no rollout in progress/)
  })

  it('the container of an unhealthy task is stopped before its replacement starts (never one more container than the bound)', async () => {
    const checked = validateJobSpec({name: 'web', image: 'localhost/app:1', cpus: 0.1, mem: '64Mi', instances: 1, healthCheck: {cmd: 'true', gracePeriod: '1s'}}, 'test')
    await applySpecs(ctx, [checked], {noStart: true})
    await runPass(ctx, {seed: 1})
    const [task] = listTasks(ctx.store, {live: true})
    ctx.store.write(() => updateTask(ctx.store, task!.id, {health: 'unhealthy', healthFailures: 3}, clock.now()))
    const log: string[] = []
    for (const node of nodes.values()) {
      const exec = node.transport.exec.bind(node.transport)
      node.transport.exec = async (argv, options) => {
        if (argv[3] === 'clusterctl-start') log.push('start')
        else if (argv[0] === 'podman' && argv[1] === 'rm') log.push('stop')
        return exec(argv, options)
      }
    }

    clock.advance(1_000)
    await runPass(ctx, {seed: 1, backoff: {baseMs: 0, maxMs: 0, resetAfterMs: 60_000, avoidAfterFailures: 3}})
    const kinds = log
    expect(kinds).to.deep.equal(['stop', 'start'])
  })

  it('apply dry-run records nothing and gives the rollout plan of a new version', async () => {
    await applySpecs(ctx, [spec('one')], {noStart: true})
    const dry = await applySpecs(ctx, [spec('two')], {dryRun: true})
    expect(dry.jobs[0]).to.deep.include({name: 'web', change: 'updated'})
    expect(dry.jobs[0]!.rollout!.map((s) => s.lowestAvailable)).to.deep.equal([3, 3, 3, 3, 3, 3, 3, 3])
    expect(dry.pass).to.equal(null)
    expect(versions()).to.deep.equal(['v1:create:running'])
    expect(findJob(ctx.store, 'web')!.spec.env).to.deep.equal({GREETING: 'one'})
  })

  it('canary 1: one new instance beside the 3 old ones, and the rollout waits for promote; then the rest follow', async () => {
    const canary = (greeting: string) => validateJobSpec({name: 'web', image: 'localhost/app:1', cpus: 0.1, mem: '64Mi', instances: 3, env: {GREETING: greeting}, upgrade: {minHealthyTime: 0, canary: 1}}, 'test')
    await applySpecs(ctx, [canary('one')], {noStart: true})
    expect(await followRollout(ctx, 'web', {timeoutMs: 60_000})).to.deep.include({version: 1, outcome: 'succeeded'})
    await applySpecs(ctx, [canary('two')], {noStart: true})
    const waiting = await followRollout(ctx, 'web', {timeoutMs: 60_000})
    expect(waiting).to.deep.include({version: 2, outcome: 'waiting'})
    for (let i = 0; i < 3; i++) await runPass(ctx, {seed: 1})
    expect(running().filter((c) => c.runArgs.includes('GREETING=two'))).to.have.length(1)
    expect(running().filter((c) => c.runArgs.includes('GREETING=one'))).to.have.length(3)
    expect(promoteRollout(ctx, 'web')).to.deep.include({changed: true})
    expect(await followRollout(ctx, 'web', {timeoutMs: 60_000})).to.deep.include({version: 2, outcome: 'succeeded'})
    expect(running().map((c) => c.runArgs.includes('GREETING=two'))).to.deep.equal([true, true, true])
  })
})

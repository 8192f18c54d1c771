import {expect} from 'chai'
import path from 'node:path'

import {ManualClock} from '../../../../src/core/clock.js'
import type {ServiceContext} from '../../../../src/core/context.js'
import {FailedError, UserError} from '../../../../src/core/errors.js'
import {applySpecs, getJob, runJob, summarizeJobs} from '../../../../src/core/services/jobs.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {deleteJob} from '../../../../src/core/state/jobs.js'
import {Store} from '../../../../src/core/state/store.js'
import {jobToJson} from '../../../../src/ui/presenters/jobs.js'
import {makeTempDir} from '../../../helpers/tmp.js'

describe('core/services: service ports at submit (docs/endpoints.md)', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let ctx: ServiceContext
  let ids = 0
  const spec = (name: string, extra: Record<string, unknown> = {}) => validateJobSpec({name, image: 'localhost/x:1', ports: [8080], ...extra}, 'test')
  const port = (name: string): number | null | undefined => ctx.store.read(() => getJob(ctx, name).servicePort)

  beforeEach(() => {
    tmp = makeTempDir()
    const clock = new ManualClock()
    ctx = {store: Store.open(path.join(tmp.dir, 'state.db'), clock), clock, connect: () => { throw new Error('no node') }, newId: () => `id${String(++ids).padStart(8, '0')}`}
  })
  afterEach(() => {
    ctx.store.close()
    tmp.cleanup()
  })

  it('assigns the lowest free port of 10000-10999 to each service with a TCP port; batch jobs and port-less services get none', async () => {
    await runJob(ctx, spec('a'), {noStart: true})
    const r = await applySpecs(ctx, [spec('b'), spec('c', {ports: []}), spec('d', {kind: 'batch'}), spec('e', {ports: ['53/udp']}), spec('f')], {noStart: true})
    expect(r.jobs.map((j) => [j.name, j.servicePort])).to.deep.equal([['b', 10_001], ['c', null], ['d', null], ['e', null], ['f', 10_002]])
    expect(port('a')).to.equal(10_000)
    expect(summarizeJobs(ctx).map((s) => [s.job.name, jobToJson(s).servicePort])).to.deep.equal([['a', 10_000], ['b', 10_001], ['c', null], ['d', null], ['e', null], ['f', 10_002]])
  })

  it('keeps a job\'s port through changed specs and a scale; the spec\'s own port replaces it; removal frees it', async () => {
    await applySpecs(ctx, [spec('a'), spec('b')], {noStart: true})
    const changed = await applySpecs(ctx, [spec('a', {image: 'localhost/x:2', instances: 3})], {noStart: true})
    expect(changed.jobs[0]).to.deep.include({change: 'updated', servicePort: 10_000})
    expect(port('a')).to.equal(10_000)
    const moved = await applySpecs(ctx, [spec('a', {image: 'localhost/x:2', instances: 3, servicePort: 8443})], {noStart: true})
    expect(moved.jobs[0]!.what).to.deep.equal(['service port 10000 -> 8443'])
    expect(port('a')).to.equal(8443)
    // 10000 is free again: the next new service takes it
    await runJob(ctx, spec('c'), {noStart: true})
    expect(port('c')).to.equal(10_000)
    ctx.store.write(() => deleteJob(ctx.store, getJob(ctx, 'b').id))
    await runJob(ctx, spec('d'), {noStart: true})
    expect(port('d')).to.equal(10_001)
    // unchanged when applied again without a port: it keeps the one it has
    expect((await applySpecs(ctx, [spec('a', {image: 'localhost/x:2', instances: 3, servicePort: 8443})], {noStart: true})).jobs[0]!.change).to.equal('unchanged')
    expect((await applySpecs(ctx, [spec('d')], {noStart: true})).jobs[0]!.change).to.equal('unchanged')
    // a service that becomes a batch job lets its port go
    expect((await applySpecs(ctx, [spec('d', {kind: 'batch'})], {noStart: true})).jobs[0]!.what).to.include('service port 10001 -> none')
    expect(port('d')).to.equal(null)
  })

  it('refuses a port another job holds (exit 2), in the store or in the same apply, and records nothing', async () => {
    await runJob(ctx, spec('a', {servicePort: 9000}), {noStart: true})
    for (const attempt of [() => runJob(ctx, spec('b', {servicePort: 9000}), {noStart: true}), () => applySpecs(ctx, [spec('c'), spec('b', {servicePort: 9000})], {noStart: true}), () => applySpecs(ctx, [spec('c', {servicePort: 9001}), spec('d', {servicePort: 9001})], {noStart: true})]) {
      const error = await attempt().then(() => null, (e: unknown) => e)
      expect(error).to.be.instanceOf(UserError)
      expect((error as UserError).exitCode).to.equal(2)
      expect((error as Error).message).to.match(/^Job [bd]: service port 900[01] is held by job [ac]\.$/)
    }

    expect(summarizeJobs(ctx).map((s) => s.job.name)).to.deep.equal(['a'])
    // a dry run says what a job would get, and records nothing
    const dry = await applySpecs(ctx, [spec('e')], {dryRun: true})
    expect(dry.jobs[0]!.servicePort).to.equal(10_000)
    expect(summarizeJobs(ctx).map((s) => s.job.name)).to.deep.equal(['a'])
  })

  it('fails clearly when the range is full', async () => {
    ctx.store.write(() => {
      const insert = ctx.store.db.prepare(`INSERT INTO jobs (id, name, kind, spec, spec_hash, instances, state, service_port, created_at, updated_at) VALUES (?, ?, 'service', '{}', 'h', 0, 'stopped', ?, 0, 0)`)
      for (let p = 10_000; p <= 10_999; p++) insert.run(`j${p}`, `s${p}`, p)
    })
    const error = await runJob(ctx, spec('late'), {noStart: true}).then(() => null, (e: unknown) => e)
    expect(error).to.be.instanceOf(FailedError)
    expect((error as Error).message).to.equal('Job late needs a service port, and all of 10000-10999 are taken.')
    expect(await runJob(ctx, spec('late', {servicePort: 80}), {noStart: true}).then((r) => r.job.servicePort)).to.equal(80)
  })
})

import {expect} from 'chai'

import {FailedError, UserError} from '../../../../src/core/errors.js'
import {applySpecs, getJob, removeJobs, runJob, summarizeJobs} from '../../../../src/core/services/jobs.js'
import {containerSpecHash} from '../../../../src/core/model/job.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {deleteJob} from '../../../../src/core/state/jobs.js'
import {jobToJson} from '../../../../src/ui/presenters/jobs.js'
import {useServiceContext} from '../../../helpers/service-context.js'

describe('core/services: service ports at submit (docs/endpoints.md)', () => {
  const t = useServiceContext()
  const spec = (name: string, extra: Record<string, unknown> = {}) => validateJobSpec({name, image: 'localhost/x:1', ports: [8080], ...extra}, 'test')
  const port = (name: string): number | null | undefined => t.ctx.store.read(() => getJob(t.ctx, name).servicePort)


  it('assigns the lowest free port of 10000-10999 to each service with a TCP port; batch jobs and port-less services get none', async () => {
    await runJob(t.ctx, spec('a'), {noStart: true})
    const r = await applySpecs(t.ctx, [spec('b'), spec('c', {ports: []}), spec('d', {kind: 'batch'}), spec('e', {ports: ['53/udp']}), spec('f')], {noStart: true})
    expect(r.jobs.map((j) => [j.name, j.servicePort])).to.deep.equal([['b', 10_001], ['c', null], ['d', null], ['e', null], ['f', 10_002]])
    expect(port('a')).to.equal(10_000)
    expect(summarizeJobs(t.ctx).map((s) => [s.job.name, jobToJson(s).servicePort])).to.deep.equal([['a', 10_000], ['b', 10_001], ['c', null], ['d', null], ['e', null], ['f', 10_002]])
  })

  it('keeps a job\'s port through changed specs and a scale; the spec\'s own port replaces it; removal frees it', async () => {
    await applySpecs(t.ctx, [spec('a'), spec('b')], {noStart: true})
    const changed = await applySpecs(t.ctx, [spec('a', {image: 'localhost/x:2', instances: 3})], {noStart: true})
    expect(changed.jobs[0]).to.deep.include({change: 'updated', servicePort: 10_000})
    expect(port('a')).to.equal(10_000)
    const moved = await applySpecs(t.ctx, [spec('a', {image: 'localhost/x:2', instances: 3, servicePort: 8443})], {noStart: true})
    expect(moved.jobs[0]!.what).to.deep.equal(['service port 10000 -> 8443'])
    expect(port('a')).to.equal(8443)
    // 10000 is free again: the next new service takes it
    await runJob(t.ctx, spec('c'), {noStart: true})
    expect(port('c')).to.equal(10_000)
    t.ctx.store.write(() => deleteJob(t.ctx.store, getJob(t.ctx, 'b').id))
    await runJob(t.ctx, spec('d'), {noStart: true})
    expect(port('d')).to.equal(10_001)
    // unchanged when applied again without a port: it keeps the one it has
    expect((await applySpecs(t.ctx, [spec('a', {image: 'localhost/x:2', instances: 3, servicePort: 8443})], {noStart: true})).jobs[0]!.change).to.equal('unchanged')
    expect((await applySpecs(t.ctx, [spec('d')], {noStart: true})).jobs[0]!.change).to.equal('unchanged')
    // a service that becomes a batch job lets its port go
    expect((await applySpecs(t.ctx, [spec('d', {kind: 'batch'})], {noStart: true})).jobs[0]!.what).to.include('service port 10001 -> none')
    expect(port('d')).to.equal(null)
  })

  it('refuses a port another job holds (exit 2), in the store or in the same apply, and records nothing', async () => {
    await runJob(t.ctx, spec('a', {servicePort: 9000}), {noStart: true})
    for (const attempt of [() => runJob(t.ctx, spec('b', {servicePort: 9000}), {noStart: true}), () => applySpecs(t.ctx, [spec('c'), spec('b', {servicePort: 9000})], {noStart: true}), () => applySpecs(t.ctx, [spec('c', {servicePort: 9001}), spec('d', {servicePort: 9001})], {noStart: true})]) {
      const error = await attempt().then(() => null, (e: unknown) => e)
      expect(error).to.be.instanceOf(UserError)
      expect((error as UserError).exitCode).to.equal(2)
      expect((error as Error).message).to.match(/^Job [bd]: service port 900[01] is held by job [ac]\.$/)
    }

    expect(summarizeJobs(t.ctx).map((s) => s.job.name)).to.deep.equal(['a'])
    // a dry run says what a job would get, and records nothing
    const dry = await applySpecs(t.ctx, [spec('e')], {dryRun: true})
    expect(dry.jobs[0]!.servicePort).to.equal(10_000)
    expect(summarizeJobs(t.ctx).map((s) => s.job.name)).to.deep.equal(['a'])
  })

  it('fails clearly when the range is full', async () => {
    t.ctx.store.write(() => {
      const insert = t.ctx.store.db.prepare(`INSERT INTO jobs (id, name, kind, spec, spec_hash, instances, state, service_port, created_at, updated_at) VALUES (?, ?, 'service', '{}', 'h', 0, 'stopped', ?, 0, 0)`)
      for (let p = 10_000; p <= 10_999; p++) insert.run(`j${p}`, `s${p}`, p)
    })
    const error = await runJob(t.ctx, spec('late'), {noStart: true}).then(() => null, (e: unknown) => e)
    expect(error).to.be.instanceOf(FailedError)
    expect((error as Error).message).to.equal('Job late needs a service port, and all of 10000-10999 are taken.')
    expect(await runJob(t.ctx, spec('late', {servicePort: 80}), {noStart: true}).then((r) => r.job.servicePort)).to.equal(80)
  })

  describe('uses: injected service addresses at submit (docs/endpoints.md)', () => {
    const refusal = async (attempt: () => Promise<unknown>): Promise<UserError> => {
      const error = await attempt().then(() => null, (e: unknown) => e)
      expect(error).to.be.instanceOf(UserError)
      expect((error as UserError).exitCode).to.equal(2)
      return error as UserError
    }

    it('a used service must exist (stored or in the same apply) and have a service address; nothing is recorded otherwise', async () => {
      expect((await refusal(() => runJob(t.ctx, spec('web', {uses: ['db']}), {noStart: true}))).message).to.equal('web uses db, which does not exist.')
      expect((await refusal(() => applySpecs(t.ctx, [spec('web', {uses: 'db'}), spec('db', {kind: 'batch'})], {noStart: true}))).message).to.equal('web uses db, which has no service address: only a service with a TCP port has one.')
      await runJob(t.ctx, spec('udp', {ports: ['53/udp']}), {noStart: true})
      expect((await refusal(() => runJob(t.ctx, spec('web', {uses: ['udp']}), {noStart: true}))).message).to.match(/^web uses udp, which has no service address/)
      expect(summarizeJobs(t.ctx).map((s) => s.job.name)).to.deep.equal(['udp'])
      // the service in the same file, or stored
      await applySpecs(t.ctx, [spec('web', {uses: ['db']}), spec('db')], {noStart: true})
      await runJob(t.ctx, spec('worker', {ports: [], uses: ['db', 'web']}), {noStart: true})
      expect(getJob(t.ctx, 'worker').spec.uses).to.deep.equal(['db', 'web'])
    })

    it('a used service may not lose its address while used, nor be removed without --force', async () => {
      await applySpecs(t.ctx, [spec('db'), spec('web', {uses: ['db']})], {noStart: true})
      expect((await refusal(() => applySpecs(t.ctx, [spec('db', {ports: []})], {noStart: true}))).message).to.equal('db would lose its service address (no TCP port, or not a service), and web uses it.')
      expect(getJob(t.ctx, 'db').servicePort).to.equal(10_000)
      expect((await refusal(() => removeJobs(t.ctx, {names: ['db']}))).message).to.equal('db is used by web: removing it leaves that job without its address.')
      // dropping it from web's uses in the same apply lets it go
      await applySpecs(t.ctx, [spec('db', {ports: []}), spec('web')], {noStart: true})
      expect(getJob(t.ctx, 'db').servicePort).to.equal(null)
    })

    it('is part of the container spec hash only when given (hashes of older specs stay), in any order', () => {
      const plain = spec('web')
      expect(containerSpecHash(plain)).to.equal(containerSpecHash({...plain, uses: []}))
      expect(containerSpecHash({...plain, uses: ['a', 'b']})).to.equal(containerSpecHash({...plain, uses: ['b', 'a']}))
      expect(containerSpecHash({...plain, uses: ['a']})).to.not.equal(containerSpecHash(plain))
    })
  })
})

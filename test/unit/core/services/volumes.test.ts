import {expect} from 'chai'

import {NotFoundError, UserError} from '../../../../src/core/errors.js'
import {applySpecs, runJob} from '../../../../src/core/services/jobs.js'
import {forgetVolume, inspectVolume, removeVolume, volumeViews} from '../../../../src/core/services/volumes.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {deleteJob, findJob, insertTask} from '../../../../src/core/state/jobs.js'
import {pendingTask} from '../../../../src/core/reconcile/plan.js'
import {useServiceContext} from '../../../helpers/service-context.js'

describe('core/services: volumes (docs/volumes.md)', () => {
  const sc = useServiceContext()
  const spec = (name: string, volumes: unknown[], extra: Record<string, unknown> = {}) => validateJobSpec({name, image: 'localhost/x:1', volumes, ...extra}, 'test')
  const names = (): string[] => volumeViews(sc.ctx).map((v) => `${v.volume.name}:${v.volume.jobName}:${v.state}`)

  it('a job claims one local volume per instance and its NFS volumes; another job naming them is refused and nothing changes', async () => {
    await runJob(sc.ctx, spec('db', ['data:/data', {name: 'shared', mount: '/s', source: {nfs: {server: 'nfs-1', export: '/srv'}}}], {instances: 2}), {noStart: true})
    expect(names()).to.deep.equal(['data-0:db:unplaced', 'data-1:db:unplaced', 'shared:db:idle'])
    const refused = await applySpecs(sc.ctx, [spec('other', ['/srv/x:/x'], {}), spec('db2', ['data:/data'])], {noStart: true}).catch((error: unknown) => error)
    expect(refused).to.be.instanceOf(UserError).with.property('message', 'Job db2: volume data-0 belongs to job db; nothing was changed.')
    expect(sc.ctx.store.read(() => findJob(sc.ctx.store, 'other'))).to.equal(undefined)
    // the same export may be shared by another job; a different one under that name may not
    await runJob(sc.ctx, spec('web', [{name: 'shared', mount: '/s', source: {nfs: {server: 'nfs-1', export: '/srv'}}}]), {noStart: true})
    const other = await runJob(sc.ctx, spec('api', [{name: 'shared', mount: '/s', source: {nfs: {server: 'nfs-2', export: '/srv'}}}]), {noStart: true}).catch((error: unknown) => error)
    expect(other).to.be.instanceOf(UserError).with.property('message').that.matches(/volume shared is the NFS export nfs-1:\/srv, not nfs-2:\/srv/)
  })

  it('a removed job\'s volumes stay, and a job of that name takes them back', async () => {
    await runJob(sc.ctx, spec('db', ['data:/data']), {noStart: true})
    const id = sc.ctx.store.read(() => findJob(sc.ctx.store, 'db')!.id)
    sc.ctx.store.write(() => deleteJob(sc.ctx.store, id))
    await runJob(sc.ctx, spec('db', ['data:/data']), {noStart: true})
    const v = inspectVolume(sc.ctx, 'data-0').volume
    expect([v.jobName, v.jobId === id]).to.deep.equal(['db', false])
  })

  it('rm and forget: refused while a task uses the volume (exit 2), unknown names exit 3, forget needs --new-empty while its instance is wanted', async () => {
    const {job} = await runJob(sc.ctx, spec('db', ['data:/data']), {noStart: true})
    sc.ctx.store.write(() => insertTask(sc.ctx.store, {...pendingTask(job, 0, 0, null, {id: 't1', cluster: 'c', now: 0}), state: 'running', nodeId: null}))
    const inUse = await removeVolume(sc.ctx, 'data-0').catch((error: unknown) => error)
    expect(inUse).to.be.instanceOf(UserError).with.property('message').that.matches(/^Volume data-0 is in use by db.0 \(running\); it was not removed\.$/)
    expect(() => forgetVolume(sc.ctx, 'data-0', {newEmpty: true})).to.throw(UserError, /in use by db.0/)
    expect(await removeVolume(sc.ctx, 'nope').catch((error: unknown) => error)).to.be.instanceOf(NotFoundError)
    expect(() => forgetVolume(sc.ctx, 'nope')).to.throw(NotFoundError)
    expect(names()).to.deep.equal(['data-0:db:in-use'])
  })

  it('forget --new-empty replaces the record (a new id: a new, empty directory; no node), even with the task lost with its node', async () => {
    await runJob(sc.ctx, spec('db', ['data:/data']), {noStart: true})
    const job = sc.ctx.store.read(() => findJob(sc.ctx.store, 'db')!)
    // the task lost with its node does not hold it
    sc.ctx.store.write(() => insertTask(sc.ctx.store, {...pendingTask(job, 0, 0, null, {id: 't9', cluster: 'c', now: 0}), state: 'unreachable', nodeId: null}))
    const before = inspectVolume(sc.ctx, 'data-0')
    expect(() => forgetVolume(sc.ctx, 'data-0')).to.throw(UserError, /Add --new-empty/)
    const {replacement} = forgetVolume(sc.ctx, 'data-0', {newEmpty: true})
    const after = inspectVolume(sc.ctx, 'data-0')
    expect(replacement?.name).to.equal('data-0')
    expect(after.path).to.not.equal(before.path)
    expect(after.volume.nodeId).to.equal(null)
  })
})

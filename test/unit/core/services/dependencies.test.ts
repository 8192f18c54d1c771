import {expect} from 'chai'

import {UserError} from '../../../../src/core/errors.js'
import {applySpecs, getJob, removeJob, runJob} from '../../../../src/core/services/jobs.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {useServiceContext} from '../../../helpers/service-context.js'

describe('core/services: dependent jobs at submit and removal', () => {
  const t = useServiceContext()
  const spec = (name: string, extra: Record<string, unknown> = {}) => validateJobSpec({name, image: 'localhost/x:1', ...extra}, 'test')


  async function refusal(fn: () => Promise<unknown>): Promise<string> {
    try {
      await fn()
    } catch (error) {
      expect(error).to.be.instanceOf(UserError)
      return (error as Error).message
    }

    throw new Error('expected a refusal')
  }

  it('refuses an unknown parent at run, and records nothing', async () => {
    expect(await refusal(() => runJob(t.ctx, spec('child', {after: ['nope']}), {noStart: true}))).to.equal('Job child runs after nope, which does not exist.')
    expect(() => getJob(t.ctx, 'child')).to.throw('No job named child')
  })

  it('accepts parents in the same file, and refuses a cycle through stored jobs naming the path', async () => {
    await applySpecs(t.ctx, [spec('b', {after: ['a']}), spec('a', {schedule: '@daily'})], {noStart: true})
    expect(await refusal(() => applySpecs(t.ctx, [spec('a', {after: ['c']}), spec('c', {after: ['b']})], {noStart: true}))).to.equal('Jobs depend on each other in a cycle: a -> b -> c -> a.')
    expect(getJob(t.ctx, 'a').spec.runPolicy?.after).to.deep.equal([])
  })

  it('refuses rm of a parent without --force; with --force its children stop waiting for it', async () => {
    await applySpecs(t.ctx, [spec('a', {schedule: '@daily'}), spec('b', {after: ['a']})], {noStart: true})
    expect(await refusal(() => removeJob(t.ctx, 'a'))).to.equal('Job a has jobs that run after it: b.')
    const result = await removeJob(t.ctx, 'a', {force: true})
    expect(result.orphanedChildren).to.deep.equal(['b'])
    expect(getJob(t.ctx, 'b').spec.runPolicy?.after).to.deep.equal([])
  })
})

import {expect} from 'chai'

import type {Job} from '../../../../src/core/model/task.js'
import {rolloutBrief, rolloutOutcome, statusLine} from '../../../../src/ui/presenters/deployments.js'
import {aDeployment, aJob, aRolloutStatus} from '../dashboard/fixtures.js'

describe('ui/presenters/deployments: a rollout in a few words and in one line', () => {
  const web = aJob('web', {instances: 4})
  const canary: Job = {...web, spec: {...web.spec, upgrade: {...web.spec.upgrade, canary: 2}}}
  const running = aDeployment(web, 3, {state: 'running', endedAt: null})

  it('rolloutBrief: rolling, canary (counting, then waiting for promote unless autoPromote), rolling back to its target, paused; nothing for an ended version', () => {
    expect(rolloutBrief(aRolloutStatus(web, running, {updated: 2}), web.spec.upgrade)).to.equal('rolling v3 2/4')
    expect(rolloutBrief(aRolloutStatus(canary, running, {updated: 1}), canary.spec.upgrade)).to.equal('canary v3 1/2')
    expect(rolloutBrief(aRolloutStatus(canary, running, {updated: 2}), canary.spec.upgrade)).to.equal('canary v3 waits promote')
    expect(rolloutBrief(aRolloutStatus(canary, running, {updated: 2}), {...canary.spec.upgrade, autoPromoteMs: 60_000})).to.equal('canary v3 2/2')
    expect(rolloutBrief(aRolloutStatus(canary, {...running, promoted: true}, {updated: 2}), canary.spec.upgrade)).to.equal('rolling v3 2/4')
    expect(rolloutBrief(aRolloutStatus(web, {...running, cause: 'rollback'}, {updated: 1, backTo: 1}), web.spec.upgrade)).to.equal('rolling back to v1 1/4')
    expect(rolloutBrief(aRolloutStatus(web, {...running, state: 'paused'}, {updated: 3}), canary.spec.upgrade)).to.equal('paused v3 3/4')
    expect(rolloutBrief(aRolloutStatus(web, aDeployment(web, 3), {updated: 4}), web.spec.upgrade)).to.equal('')
  })

  it('rolloutOutcome (`rollout status --no-follow`): waiting while the canaries are available and not promoted, else the version\'s state', () => {
    const onCanary = {...running, spec: canary.spec}
    expect(rolloutOutcome(aRolloutStatus(canary, onCanary, {updated: 1}))).to.equal('running')
    expect(rolloutOutcome(aRolloutStatus(canary, onCanary, {updated: 2}))).to.equal('waiting')
    expect(rolloutOutcome(aRolloutStatus(canary, {...onCanary, promoted: true}, {updated: 2}))).to.equal('running')
    expect(rolloutOutcome(aRolloutStatus(canary, {...onCanary, state: 'paused'}, {updated: 2}))).to.equal('paused')
    expect(rolloutOutcome(aRolloutStatus(canary, {...onCanary, spec: {...canary.spec, upgrade: {...canary.spec.upgrade, autoPromoteMs: 60_000}}}, {updated: 2}))).to.equal('running')
    expect(rolloutOutcome(aRolloutStatus(web, running, {updated: 2}))).to.equal('running')
    expect(rolloutOutcome(aRolloutStatus(web, aDeployment(web, 3), {updated: 4}))).to.equal('succeeded')
    expect(rolloutOutcome({...aRolloutStatus(web, running), deployment: null})).to.equal('none')
  })

  it('statusLine names the version a rollback goes back to', () => {
    expect(statusLine(aRolloutStatus(web, {...running, cause: 'rollback', version: 5}, {updated: 1, old: 3, backTo: 2}))).to.equal('web v5 (rollback to v2) running: 1 of 4 updated, 3 old; at most 0 unavailable, 1 extra')
    expect(statusLine(aRolloutStatus(web, running, {updated: 1, old: 3}))).to.equal('web v3 (apply) running: 1 of 4 updated, 3 old; at most 0 unavailable, 1 extra')
  })
})

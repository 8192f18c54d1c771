import {expect} from 'chai'
import fc from 'fast-check'

import {fromMarathonCapacity, resolveIntOrPercent, rolloutBounds, UPGRADE_DEFAULTS, upgradeOf} from '../../../../src/core/model/job.js'
import {UserError} from '../../../../src/core/errors.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'

const upgradeOfDoc = (doc: Record<string, unknown>, warn?: (m: string) => void) => validateJobSpec({name: 'web', image: 'localhost/app:1', ...doc}, 'web.yaml', warn ? {warn} : {}).upgrade

describe('core/model/job: upgrade policy', () => {
  it('Kubernetes rounding: maxSurge percentages round up, maxUnavailable down', () => {
    expect(rolloutBounds({maxUnavailable: '25%', maxSurge: '25%'}, 10)).to.deep.equal({maxUnavailable: 2, maxSurge: 3})
    expect(rolloutBounds({maxUnavailable: '33.3333%', maxSurge: '10%'}, 3)).to.deep.equal({maxUnavailable: 0, maxSurge: 1})
    expect(resolveIntOrPercent('100%', 3, false)).to.equal(3)
    // both 0 would never move: one may be unavailable
    expect(rolloutBounds({maxUnavailable: '10%', maxSurge: 0}, 4)).to.deep.equal({maxUnavailable: 1, maxSurge: 0})
    expect(rolloutBounds({maxUnavailable: 7, maxSurge: 0}, 4)).to.deep.equal({maxUnavailable: 4, maxSurge: 0})
  })

  it('bounds are whole, never both 0, maxUnavailable at most N (property)', () => {
    const value = fc.oneof(fc.integer({min: 0, max: 50}), fc.integer({min: 0, max: 100}).map((p) => `${p}%`))
    fc.assert(
      fc.property(value, value, fc.integer({min: 1, max: 500}), (u, s, n) => {
        const b = rolloutBounds({maxUnavailable: u, maxSurge: s}, n)
        expect(Number.isInteger(b.maxUnavailable) && Number.isInteger(b.maxSurge)).to.equal(true)
        expect(b.maxUnavailable + b.maxSurge).to.be.greaterThan(0)
        expect(b.maxUnavailable).to.be.at.most(n)
        if (typeof s === 'string') expect(b.maxSurge).to.equal(Math.ceil((n * Number(s.slice(0, -1))) / 100 - 1e-9))
      }),
    )
  })

  it("Marathon's fractions map exactly, and 1/0 becomes maxSurge 1", () => {
    expect(fromMarathonCapacity(4, 0.75, 0)).to.deep.equal({maxUnavailable: 1, maxSurge: 0, adjusted: false})
    expect(fromMarathonCapacity(10, 0.5, 0.2)).to.deep.equal({maxUnavailable: 5, maxSurge: 2, adjusted: false})
    expect(fromMarathonCapacity(3, 1, 1)).to.deep.equal({maxUnavailable: 0, maxSurge: 3, adjusted: false})
    expect(fromMarathonCapacity(5, 1, 0)).to.deep.equal({maxUnavailable: 0, maxSurge: 1, adjusted: true})
    // a resident app never surges: Marathon stops one below minimumHealthCapacity instead
    expect(fromMarathonCapacity(1, 0.5, 0, true)).to.deep.equal({maxUnavailable: 1, maxSurge: 0, adjusted: false})
    expect(fromMarathonCapacity(5, 1, 0, true)).to.deep.equal({maxUnavailable: 1, maxSurge: 0, adjusted: false})
    expect(fromMarathonCapacity(10, 0.5, 0, true)).to.deep.equal({maxUnavailable: 5, maxSurge: 0, adjusted: false})
  })

  it('validates upgrade: defaults, percentages, durations, the single-instance host-volume default', () => {
    expect(upgradeOfDoc({})).to.deep.equal(UPGRADE_DEFAULTS)
    expect(upgradeOfDoc({upgrade: {maxUnavailable: '25%', maxSurge: 0, minHealthyTime: '2s', progressDeadline: '1m', maxFailedInstances: 1, autoRollback: false}})).to.deep.equal({
      ...UPGRADE_DEFAULTS, maxUnavailable: '25%', maxSurge: 0, minHealthyTimeMs: 2000, progressDeadlineMs: 60_000, maxFailedInstances: 1, autoRollback: false,
    })
    expect(upgradeOfDoc({instances: 3, upgrade: {canary: 3, autoPromote: '30s'}})).to.deep.include({canary: 3, autoPromoteMs: 30_000})
    expect(upgradeOfDoc({volumes: ['/srv/db:/db']})).to.deep.include({maxSurge: 0, maxUnavailable: 1})
    expect(upgradeOfDoc({volumes: ['/srv/db:/db'], instances: 2})).to.deep.include({maxSurge: 1, maxUnavailable: 0})
    const warnings: string[] = []
    expect(upgradeOfDoc({instances: 4, upgrade: {minimumHealthCapacity: 1, maximumOverCapacity: 0}}, (m) => warnings.push(m))).to.deep.include({maxSurge: 1, maxUnavailable: 0})
    expect(warnings).to.have.length(1)
  })

  it('refuses bad upgrade fields by name', () => {
    const bad = (upgrade: unknown): string => {
      try {
        upgradeOfDoc({upgrade})
      } catch (error) {
        expect(error).to.be.instanceOf(UserError)
        return (error as Error).message
      }

      throw new Error('expected an error')
    }

    expect(bad({maxSurge: 0, maxUnavailable: 0})).to.include('cannot both be 0')
    expect(bad({maxSurge: '150%'})).to.include('upgrade.maxSurge: must be a whole number >= 0 or a percentage')
    expect(bad({maxSurge: -1})).to.include('upgrade.maxSurge')
    expect(bad({surge: 1})).to.include('upgrade.surge: unknown field')
    expect(bad({progressDeadline: '10ms'})).to.include('upgrade.progressDeadline: must be at least 1s')
    expect(bad({canary: 2})).to.include('upgrade.canary: must be at most instances (1; canary: 1 is blue/green), got 2')
  })

  it('a stored spec from before deployments reads with the defaults', () => {
    expect(upgradeOf({upgrade: {minimumHealthCapacity: 1, maximumOverCapacity: 1}} as never)).to.deep.equal(UPGRADE_DEFAULTS)
    expect(upgradeOf({upgrade: {...UPGRADE_DEFAULTS, maxSurge: 3}})).to.deep.include({maxSurge: 3})
  })
})

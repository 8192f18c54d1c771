import path from 'node:path'

import {expect} from 'chai'

import {ManualClock} from '../../../../src/core/clock.js'
import {UserError} from '../../../../src/core/errors.js'
import {getSettings, setSetting} from '../../../../src/core/services/settings.js'
import {Store} from '../../../../src/core/state/store.js'
import {makeTempDir} from '../../../helpers/tmp.js'

describe('core/services/settings', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: Store

  beforeEach(() => {
    tmp = makeTempDir()
    store = Store.open(path.join(tmp.dir, 'state.db'), new ManualClock(0))
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  it('lists every setting with its default; consolidate is off until turned on, and back off', () => {
    expect(getSettings({store}).map((r) => [r.name, r.on, r.default])).to.deep.equal([['consolidate', false, false]])
    expect(setSetting({store}, 'consolidate', 'on').find((r) => r.name === 'consolidate')!.on).to.equal(true)
    expect(getSettings({store})[0]!.on).to.equal(true)
    setSetting({store}, 'consolidate', 'off')
    expect(getSettings({store})[0]!.on).to.equal(false)
  })

  it('refuses an unknown setting or a value other than on/off, and changes nothing', () => {
    expect(() => setSetting({store}, 'consolidation', 'on')).to.throw(UserError, /Unknown setting "consolidation"/)
    expect(() => setSetting({store}, 'consolidate', 'yes')).to.throw(UserError, /on or off/)
    expect(getSettings({store})[0]!.on).to.equal(false)
  })
})

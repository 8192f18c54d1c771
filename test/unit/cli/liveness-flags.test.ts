import {expect} from 'chai'

import {livenessOptions} from '../../../src/cli/liveness-flags.js'
import {UserError} from '../../../src/core/errors.js'

describe('cli/liveness-flags (daemon and schedule)', () => {
  it('takes the daemon defaults for absent flags and the given ones otherwise', () => {
    const d = livenessOptions({})
    expect(d.heartbeat).to.deep.equal({downAfterMs: 4000, missesToDown: 2})
    expect(d.detector).to.deep.include({floorMs: 1500, ceilingMs: 6000})
    expect(livenessOptions({'heartbeat-timeout': '2s', 'down-after': '10s'}).detector).to.deep.include({floorMs: 2000, ceilingMs: 6000})
  })

  it('refuses a ceiling below the floor and a malformed duration', () => {
    expect(() => livenessOptions({'heartbeat-timeout': '9s', 'heartbeat-ceiling': '3s'})).to.throw(UserError, /must be at least/)
    expect(() => livenessOptions({'down-after': 'soon'})).to.throw(UserError, /duration/)
  })
})

import {expect} from 'chai'
import path from 'node:path'

import {ManualClock} from '../../../../src/core/clock.js'
import {acquireLease, currentLease, releaseLease} from '../../../../src/core/state/lease.js'
import {Store} from '../../../../src/core/state/store.js'
import {makeTempDir} from '../../../helpers/tmp.js'

describe('core/state/lease', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let clock: ManualClock
  let store: Store
  const a = {holder: 'a', kind: 'daemon' as const, pid: 1, hostname: 'ctl-1'}
  const b = {holder: 'b', kind: 'command' as const, pid: 2, hostname: 'ctl-2'}

  beforeEach(() => {
    tmp = makeTempDir()
    clock = new ManualClock()
    store = Store.open(path.join(tmp.dir, 'state.db'), clock)
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  it('grants a free lease, refuses a held one, and renews it for its holder', () => {
    expect(acquireLease(store, a, 10_000).ok).to.equal(true)
    const refused = acquireLease(store, b, 10_000)
    expect(refused.ok).to.equal(false)
    expect(!refused.ok && refused.current.holder).to.equal('a')
    clock.advance(9000)
    const renewed = acquireLease(store, a, 10_000)
    expect(renewed.ok && renewed.lease.expiresAt).to.equal(clock.now() + 10_000)
    clock.advance(9000)
    expect(acquireLease(store, b, 10_000).ok).to.equal(false) // renewed: still a's
  })

  it('lets another take it once it expires (a holder killed with -9 blocks only until then)', () => {
    acquireLease(store, a, 10_000)
    clock.advance(10_001)
    expect(currentLease(store)).to.equal(undefined)
    expect(acquireLease(store, b, 10_000).ok).to.equal(true)
    expect(acquireLease(store, a, 10_000).ok).to.equal(false)
  })

  it('is taken over at once when its holder is known to be gone (a killed process of this machine)', () => {
    acquireLease(store, a, 10_000)
    expect(acquireLease(store, b, 10_000, {holderGone: (l) => l.holder === 'x'}).ok).to.equal(false)
    expect(acquireLease(store, b, 10_000, {holderGone: (l) => l.holder === 'a'}).ok).to.equal(true)
  })

  it('holderGone: only a dead pid of this machine counts', async () => {
    const {holderGone} = await import('../../../../src/core/reconcile/controller.js')
    const os = await import('node:os')
    const lease = {name: 'controller', holder: 'h', kind: 'daemon' as const, acquiredAt: 0, expiresAt: 1, hostname: os.hostname(), pid: 2 ** 22 + 12345}
    expect(holderGone(lease)).to.equal(true)
    expect(holderGone({...lease, pid: process.pid})).to.equal(false)
    expect(holderGone({...lease, pid: 1})).to.equal(false)
    expect(holderGone({...lease, hostname: 'elsewhere.example'})).to.equal(false)
  })

  it('is released only by its holder', () => {
    acquireLease(store, a, 10_000)
    expect(releaseLease(store, 'b')).to.equal(false)
    expect(currentLease(store)?.holder).to.equal('a')
    expect(releaseLease(store, 'a')).to.equal(true)
    expect(acquireLease(store, b, 10_000).ok).to.equal(true)
  })

  it('is decided in one transaction across processes: a second store sees the first holder', () => {
    const other = Store.open(path.join(tmp.dir, 'state.db'), clock)
    try {
      expect(acquireLease(store, a, 10_000).ok).to.equal(true)
      expect(acquireLease(other, b, 10_000).ok).to.equal(false)
    } finally {
      other.close()
    }
  })
})

import path from 'node:path'

import {ManualClock} from '../../src/core/clock.js'
import type {ServiceContext} from '../../src/core/context.js'
import {Store} from '../../src/core/state/store.js'
import {makeTempDir} from './tmp.js'

/**
 * A service context on a fresh state file for each test of the calling `describe` (it
 * registers mocha's beforeEach and afterEach): a manual clock (at `now` when given), ids id00000001 and up, and
 * no node to reach (connecting throws). Read `ctx` inside tests, not at describe time.
 */
export function useServiceContext(now?: number): {readonly ctx: ServiceContext; readonly clock: ManualClock} {
  let tmp: ReturnType<typeof makeTempDir> | undefined
  let current: {ctx: ServiceContext; clock: ManualClock} | undefined
  beforeEach(() => {
    tmp = makeTempDir()
    const clock = new ManualClock(now)
    let ids = 0
    current = {clock, ctx: {store: Store.open(path.join(tmp.dir, 'state.db'), clock), clock, connect: () => { throw new Error('no node') }, newId: () => `id${String(++ids).padStart(8, '0')}`}}
  })
  afterEach(() => {
    current?.ctx.store.close()
    tmp?.cleanup()
    current = undefined
  })
  return {
    get ctx() {
      if (!current) throw new Error('useServiceContext: ctx is only there inside a test')
      return current.ctx
    },
    get clock() {
      if (!current) throw new Error('useServiceContext: clock is only there inside a test')
      return current.clock
    },
  }
}

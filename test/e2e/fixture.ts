/**
 * The e2e test bed of this mocha run, brought up once by test/e2e/setup.ts.
 * Tests call getTestbed(); they never bring a test bed up themselves.
 */
import type {Testbed} from '../testbed/testbed.js'

// On globalThis, not in a module variable: the same test bed whichever way
// (and however often) this module is loaded.
const KEY = Symbol.for('clusterctl.e2e.testbed')

interface Holder {
  [KEY]?: Testbed
}

/** For test/e2e/setup.ts only. */
export function setTestbed(tb: Testbed | undefined): void {
  const g = globalThis as Holder
  if (tb === undefined) delete g[KEY]
  else g[KEY] = tb
}

export function getTestbed(): Testbed {
  const tb = (globalThis as Holder)[KEY]
  if (!tb) {
    throw new Error('the e2e test bed is not up: run mocha with --file test/e2e/setup.ts (as scripts/test.sh does) or --require test/e2e/setup.ts')
  }
  return tb
}

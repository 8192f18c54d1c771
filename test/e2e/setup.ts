/**
 * Brings up the e2e test bed once per mocha run and tears it down afterwards,
 * also when tests fail: h1, h2, h3 full hosts (podman + containerd + the test
 * image) and bare1 (sshd only, no runtime). Tests reach it through
 * getTestbed() in ./fixture.ts.
 *
 * Works both ways mocha can load it:
 *   --require test/e2e/setup.ts   a root hook plugin: mocha reads `mochaHooks`
 *   --file test/e2e/setup.ts      a spec file (scripts/test.sh): the root-level before/after below
 */
import type {Context} from 'mocha'

import {downTestbed, upTestbed} from '../testbed/testbed.js'
import {setTestbed} from './fixture.js'

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`
}

/** Whether this run brought the test bed up: only then does it take it down. */
const run = {ownsTestbed: false}

export const mochaHooks = {
  async beforeAll(this: Context): Promise<void> {
    this.timeout(180_000)
    const t0 = Date.now()
    // upTestbed refuses while another live process owns a test bed: then this run
    // fails here, and must not tear down the other run's hosts afterwards.
    const tb = await upTestbed({hosts: 3, bare: 1})
    run.ownsTestbed = true
    setTestbed(tb)
    console.log(`  test bed up in ${seconds(t0)}: ${tb.hosts.map((h) => `${h.name} ${h.ip}`).join(', ')}`)
  },
  async afterAll(this: Context): Promise<void> {
    this.timeout(120_000)
    setTestbed(undefined)
    if (!run.ownsTestbed) return
    const t0 = Date.now()
    await downTestbed()
    run.ownsTestbed = false
    console.log(`  test bed down in ${seconds(t0)}`)
  },
}

// Loaded as a spec file, mocha does not read the export above, but it has defined
// its BDD globals: hooks outside any describe() belong to the root suite and run
// once around all tests. Loaded with --require, those globals do not exist yet.
if (typeof globalThis.before === 'function' && typeof globalThis.after === 'function') {
  before(mochaHooks.beforeAll)
  after(mochaHooks.afterAll)
}

import {expect} from 'chai'
import os from 'node:os'
import path from 'node:path'

import {systemClock} from '../../../../src/core/clock.js'
import type {ServiceContext} from '../../../../src/core/context.js'
import {FailedError} from '../../../../src/core/errors.js'
import {converge, daemonPassAfter, recordDaemonPass} from '../../../../src/core/reconcile/controller.js'
import {emptyReport, type PassReport} from '../../../../src/core/reconcile/report.js'
import {acquireLease} from '../../../../src/core/state/lease.js'
import {Store} from '../../../../src/core/state/store.js'
import {exitCodeOfPass} from '../../../../src/cli/job-command.js'
import {makeTempDir} from '../../../helpers/tmp.js'

describe('core/reconcile/controller (a command while a daemon runs)', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let store: Store
  let ctx: ServiceContext
  const daemon = {holder: 'the-daemon', kind: 'daemon' as const, pid: process.pid, hostname: os.hostname()}
  const failedStart = (at: number): PassReport => ({...emptyReport(false, 1), unchanged: false, actions: [{kind: 'start', job: 'badimg', instance: 0, taskId: 't1', node: 'n1', detail: `pull failed (${at})`, ok: false}]})

  beforeEach(() => {
    tmp = makeTempDir()
    store = Store.open(path.join(tmp.dir, 'state.db'), systemClock)
    ctx = {store, clock: systemClock, newId: () => `id-${Math.random()}`, connect: () => {
      throw new Error('no SSH in this test')
    }}
    expect(acquireLease(store, daemon, 60_000).ok).to.equal(true)
  })
  afterEach(() => {
    store.close()
    tmp.cleanup()
  })

  it("reports the daemon's first pass that started after the change, failed start included (exit 1, as without a daemon)", async () => {
    recordDaemonPass(ctx, Date.now() - 5000, emptyReport(false, 1)) // an earlier pass: did not see the change
    const waiting = converge(ctx, {waitMs: 10_000})
    await new Promise((resolve) => setTimeout(resolve, 300))
    const startedAt = Date.now()
    recordDaemonPass(ctx, startedAt, failedStart(1))
    recordDaemonPass(ctx, startedAt + 1000, emptyReport(false, 2)) // a later pass (back-off): not the one
    const pass = await waiting
    expect(pass.convergedBy).to.deep.equal({pid: process.pid, hostname: os.hostname(), passStartedAt: startedAt})
    expect(pass.actions).to.have.length(1)
    expect(exitCodeOfPass(pass, ['badimg'])).to.equal(1)
    expect(exitCodeOfPass(pass, ['other'])).to.equal(0)
  })

  it('gives up after the timeout with the change recorded (exit 1) when no pass comes', async () => {
    const t = Date.now()
    const error = await converge(ctx, {waitMs: 600}).then(() => null, (e: Error) => e)
    expect(error).to.be.instanceOf(FailedError)
    expect(error!.message).to.match(/The change is recorded, but the cluster is being converged by a daemon .* no pass of it started and completed within 0\.6s\./)
    expect(Date.now() - t).to.be.below(5000)
  })

  it('keeps the last 50 passes and finds the first after a time', () => {
    for (let i = 1; i <= 60; i++) recordDaemonPass(ctx, 1000 * i, emptyReport(false, i))
    expect(daemonPassAfter(ctx, 0)?.startedAt).to.equal(11_000)
    expect(daemonPassAfter(ctx, 30_000)?.report.seed).to.equal(31)
    expect(daemonPassAfter(ctx, 60_000)).to.equal(null)
  })
})

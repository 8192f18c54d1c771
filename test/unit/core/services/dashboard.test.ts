import {expect} from 'chai'
import path from 'node:path'

import {ManualClock} from '../../../../src/core/clock.js'
import type {ServiceContext} from '../../../../src/core/context.js'
import {runId} from '../../../../src/core/model/run.js'
import {clusterSnapshot, DETAIL_RUNS} from '../../../../src/core/services/dashboard.js'
import {applySpecs, getJob} from '../../../../src/core/services/jobs.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {insertRun} from '../../../../src/core/state/runs.js'
import {Store} from '../../../../src/core/state/store.js'
import {makeTempDir} from '../../../helpers/tmp.js'

describe('core/services/dashboard: the snapshot of a focused job', () => {
  let tmp: ReturnType<typeof makeTempDir>
  let ctx: ServiceContext
  let ids = 0
  const NOW = Date.UTC(2026, 2, 7, 12, 0, 0)

  beforeEach(() => {
    tmp = makeTempDir()
    const clock = new ManualClock(NOW)
    ctx = {store: Store.open(path.join(tmp.dir, 'state.db'), clock), clock, connect: () => { throw new Error('no node') }, newId: () => `id${String(++ids).padStart(8, '0')}`}
  })
  afterEach(() => {
    ctx.store.close()
    tmp.cleanup()
  })

  it('reads the schedule (next times with their UTC offsets, across the DST change) and the newest runs of the job asked for, and nothing without focus', async () => {
    await applySpecs(ctx, [validateJobSpec({name: 'nightly', image: 'localhost/x:1', schedule: '0 3 * * *', timezone: 'America/New_York'}, 'test'), validateJobSpec({name: 'web', image: 'localhost/x:1'}, 'test')], {noStart: true})
    const job = getJob(ctx, 'nightly')
    ctx.store.write(() => {
      for (let i = 0; i < DETAIL_RUNS + 5; i++) {
        const at = NOW - (i + 1) * 86_400_000
        insertRun(ctx.store, {id: runId('nightly', at), jobId: job.id, jobName: 'nightly', trigger: 'schedule', scheduledAt: at, attempt: 1, state: 'succeeded', taskId: null, node: 'h1', exitCode: 0, reason: null, createdAt: at, startedAt: at, endedAt: at + 1000, retryAt: null})
      }
    })

    expect(clusterSnapshot(ctx).jobRuns).to.equal(null)
    expect(clusterSnapshot(ctx, 0, {job: 'web'}).jobRuns).to.equal(null)
    expect(clusterSnapshot(ctx, 0, {job: 'gone'}).jobRuns).to.equal(null)
    const focused = clusterSnapshot(ctx, 0, {job: 'nightly'}).jobRuns!
    expect(focused.job).to.equal('nightly')
    expect(focused.schedule.schedule).to.equal('0 3 * * *')
    // 8 March 2026 is the DST change in New York: EST (-05:00) before, EDT (-04:00) after.
    expect(focused.schedule.next).to.deep.equal(['2026-03-08T03:00:00-04:00', '2026-03-09T03:00:00-04:00', '2026-03-10T03:00:00-04:00'])
    expect(focused.runs).to.have.length(DETAIL_RUNS)
    expect(focused.runs[0]!.id).to.equal(runId('nightly', NOW - 86_400_000))
    expect(focused.schedule.lastRun?.id).to.equal(focused.runs[0]!.id)
  })
})

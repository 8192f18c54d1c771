import {expect} from 'chai'

import {runId} from '../../../../src/core/model/run.js'
import {clusterSnapshot, DETAIL_RUNS} from '../../../../src/core/services/dashboard.js'
import {applySpecs, getJob} from '../../../../src/core/services/jobs.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {insertRun} from '../../../../src/core/state/runs.js'
import {useServiceContext} from '../../../helpers/service-context.js'

describe('core/services/dashboard: the snapshot of a focused job', () => {
  const NOW = Date.UTC(2026, 2, 7, 12, 0, 0)
  const t = useServiceContext(NOW)

  it('reads the schedule (next times with their UTC offsets, across the DST change) and the newest runs of the job asked for, and nothing without focus', async () => {
    await applySpecs(t.ctx, [validateJobSpec({name: 'nightly', image: 'localhost/x:1', schedule: '0 3 * * *', timezone: 'America/New_York'}, 'test'), validateJobSpec({name: 'web', image: 'localhost/x:1'}, 'test')], {noStart: true})
    const job = getJob(t.ctx, 'nightly')
    t.ctx.store.write(() => {
      for (let i = 0; i < DETAIL_RUNS + 5; i++) {
        const at = NOW - (i + 1) * 86_400_000
        insertRun(t.ctx.store, {id: runId('nightly', at), jobId: job.id, jobName: 'nightly', trigger: 'schedule', scheduledAt: at, attempt: 1, state: 'succeeded', taskId: null, node: 'h1', exitCode: 0, reason: null, createdAt: at, startedAt: at, endedAt: at + 1000, retryAt: null})
      }
    })

    expect(clusterSnapshot(t.ctx).jobRuns).to.equal(null)
    expect(clusterSnapshot(t.ctx, 0, {job: 'web'}).jobRuns).to.equal(null)
    expect(clusterSnapshot(t.ctx, 0, {job: 'gone'}).jobRuns).to.equal(null)
    const focused = clusterSnapshot(t.ctx, 0, {job: 'nightly'}).jobRuns!
    expect(focused.job).to.equal('nightly')
    expect(focused.schedule.schedule).to.equal('0 3 * * *')
    // 8 March 2026 is the DST change in New York: EST (-05:00) before, EDT (-04:00) after.
    expect(focused.schedule.next).to.deep.equal(['2026-03-08T03:00:00-04:00', '2026-03-09T03:00:00-04:00', '2026-03-10T03:00:00-04:00'])
    expect(focused.runs).to.have.length(DETAIL_RUNS)
    expect(focused.runs[0]!.id).to.equal(runId('nightly', NOW - 86_400_000))
    expect(focused.schedule.lastRun?.id).to.equal(focused.runs[0]!.id)
  })
})

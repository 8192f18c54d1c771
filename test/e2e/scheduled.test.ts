/**
 * Scheduled and dependent jobs on the testbed, with a real daemon: one run per firing,
 * forbid never overlaps, a child waits for both parents, retries with back-off then
 * failed, and kill -9 of the daemon between firings then a restart 30 s later gives one
 * catch-up run, no flood, no double run, and the history survives.
 */
import {expect} from 'chai'

import {CliSandbox} from './cli.js'
import {type Proc, startDaemon, stopAll} from './daemon-process.js'
import {clusterContainers, getTestbed} from './fixture.js'

interface RunRow {
  id: string
  job: string
  trigger: string
  scheduledAt: string
  attempt: number
  state: string
  startedAt: string | null
  endedAt: string | null
  exitCode: number | null
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('e2e: scheduled and dependent jobs', function () {
  this.timeout(420_000)
  let cli: CliSandbox
  let image: string
  const procs: Proc[] = []

  const runs = async (job: string): Promise<RunRow[]> => (await cli.run(['runs', job, '--json', '--limit', '500'])).json<RunRow[]>().reverse()
  const waitFor = async <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const v = await fn()
      if (v !== undefined) return v
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await sleep(1000)
    }
  }

  beforeEach(async () => {
    const tb = getTestbed()
    image = tb.image
    cli = new CliSandbox()
    const full = tb.hosts.filter((h) => h.runtimes.length > 0)
    expect((await cli.run(['add-node', ...full.map((h) => `root@${h.ip}`), '--key', tb.keyPath])).exitCode).to.equal(0)
  })

  afterEach(async () => {
    await stopAll(procs)

    for (let i = 0; i < 60; i++) {
      const jobs = (await cli.run(['jobs', '--json'])).json<Array<{name: string}>>()
      const results = await Promise.all(jobs.map((j) => cli.run(['rm', j.name, '--force'])))
      if (results.every((r) => r.exitCode === 0)) break
      await sleep(500)
    }
    // Removing a job removes every container of its runs too: nothing outlives the test.
    expect(await clusterContainers(getTestbed())).to.deep.equal([])
    cli.cleanup()
  })

  it('a job every 10 s runs on schedule for a minute, exactly one run per firing; forbid never overlaps', async () => {
    expect((await cli.run(['run', 'tick', '--image', image, '--schedule', '*/10 * * * * *', '--mem', '16Mi', '--no-start', '--', 'sh', '-c', 'echo tick'])).exitCode).to.equal(0)
    // Each run outlasts the 10 s period: forbid must queue, never overlap.
    expect((await cli.run(['run', 'slow', '--image', image, '--schedule', '*/10 * * * * *', '--mem', '16Mi', '--no-start', '--', 'sh', '-c', 'sleep 14'])).exitCode).to.equal(0)
    const daemon = startDaemon(cli)
    procs.push(daemon)
    await daemon.waitFor(/acting as the controller/)
    await sleep(62_000)
    const ticks = await runs('tick')
    const fired = ticks.filter((r) => r.state !== 'skipped')
    expect(fired.length, JSON.stringify(ticks)).to.be.within(5, 7)
    const times = fired.map((r) => Date.parse(r.scheduledAt))
    expect(new Set(ticks.map((r) => r.id)).size).to.equal(ticks.length) // one row per firing
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, 'consecutive firings 10 s apart').to.equal(10_000)
    expect(ticks.filter((r) => r.state === 'succeeded').length).to.be.at.least(4)

    const slow = (await runs('slow')).filter((r) => r.startedAt !== null)
    expect(slow.length).to.be.at.least(2)
    for (let i = 1; i < slow.length; i++) {
      const prevEnd = slow[i - 1]!.endedAt
      if (prevEnd === null) continue
      expect(Date.parse(slow[i]!.startedAt!), `${slow[i]!.id} started before ${slow[i - 1]!.id} ended`).to.be.at.least(Date.parse(slow[i - 1]!.startedAt!) + 14_000)
    }
  })

  it('a child runs after both parents succeed, not after one; a failing job retries with back-off, then is failed', async () => {
    for (const p of ['extract', 'load']) expect((await cli.run(['run', p, '--image', image, '--schedule', 'R0//PT1H', '--mem', '16Mi', '--no-start', '--', 'sh', '-c', 'true'])).exitCode).to.equal(0)
    expect((await cli.run(['run', 'report', '--image', image, '--after', 'extract', '--after', 'load', '--mem', '16Mi', '--no-start', '--', 'sh', '-c', 'true'])).exitCode).to.equal(0)
    expect((await cli.run(['run', 'flaky', '--image', image, '--schedule', 'R0//PT1H', '--retries', '1', '--mem', '16Mi', '--no-start', '--', 'sh', '-c', 'exit 3'])).exitCode).to.equal(0)
    const graph = await cli.run(['jobs', 'graph', 'report'])
    expect(graph.stdout).to.contain('report')
    const daemon = startDaemon(cli)
    procs.push(daemon)
    await daemon.waitFor(/acting as the controller/)

    expect((await cli.run(['trigger', 'extract'])).exitCode).to.equal(0)
    expect((await cli.run(['trigger', 'flaky'])).exitCode).to.equal(0)
    await waitFor('extract to succeed', async () => ((await runs('extract')).some((r) => r.state === 'succeeded') ? true : undefined))
    await sleep(5000)
    expect(await runs('report'), 'report ran after one parent only').to.deep.equal([])
    expect((await cli.run(['trigger', 'load'])).exitCode).to.equal(0)
    const child = await waitFor('report to run', async () => (await runs('report')).find((r) => r.state === 'succeeded'))
    expect(child.trigger).to.equal('parent')

    const attempts = await waitFor('flaky to fail twice', async () => {
      const rs = await runs('flaky')
      return rs.length === 2 && rs.every((r) => r.state === 'failed') ? rs : undefined
    })
    expect(attempts.map((r) => [r.trigger, r.attempt, r.exitCode])).to.deep.equal([['manual', 1, 3], ['retry', 2, 3]])
    expect(Date.parse(attempts[1]!.startedAt!) - Date.parse(attempts[0]!.endedAt!), 'back-off of 10 s').to.be.at.least(9_500)
    await sleep(25_000)
    expect(await runs('flaky'), 'no attempt after the retries').to.have.length(2)
  })

  it('kill -9 of the daemon between firings, restart 30 s later: one catch-up run, no flood, no double run; history survives', async () => {
    expect((await cli.run(['run', 'tick', '--image', image, '--schedule', '*/10 * * * * *', '--mem', '16Mi', '--no-start', '--', 'sh', '-c', 'echo tick'])).exitCode).to.equal(0)
    const first = startDaemon(cli)
    procs.push(first)
    await first.waitFor(/acting as the controller/)
    await waitFor('two succeeded runs', async () => ((await runs('tick')).filter((r) => r.state === 'succeeded').length >= 2 ? true : undefined))
    // Between firings: 3 s after a multiple of 10 s.
    while (Date.now() % 10_000 < 3000 || Date.now() % 10_000 > 5000) await sleep(100)
    first.child.kill('SIGKILL')
    await first.child
    procs.splice(procs.indexOf(first), 1)
    const killedAt = Date.now()
    const before = await runs('tick')
    await sleep(30_000)
    const second = startDaemon(cli)
    procs.push(second)
    await second.waitFor(/acting as the controller/, 60_000)
    await sleep(8000)
    const after = await runs('tick')
    for (const r of before) expect(after.map((a) => a.id), 'history survives').to.include(r.id)
    const fresh = after.filter((r) => !before.some((b) => b.id === r.id))
    const missedWindow = fresh.filter((r) => Date.parse(r.scheduledAt) > killedAt && Date.parse(r.scheduledAt) < killedAt + 30_000)
    expect(missedWindow.length, `catch-up runs for the down time: ${JSON.stringify(fresh.map((r) => r.id))}`).to.be.at.most(1)
    expect(fresh.length, 'no flood').to.be.at.most(3)
    expect(new Set(after.map((r) => r.scheduledAt)).size, 'no double run of a time').to.equal(after.length)
  })
})

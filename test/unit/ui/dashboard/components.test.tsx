import {expect} from 'chai'
import chalk from 'chalk'
import {render} from 'ink-testing-library'

import {App, type BusMessage} from '../../../../src/ui/dashboard/app.js'
import {Dashboard} from '../../../../src/ui/dashboard/components/dashboard.js'
import {ColorContext} from '../../../../src/ui/dashboard/components/theme.js'
import {type Action, type DashboardState, initialState, reduce} from '../../../../src/ui/dashboard/reducer.js'
import type {DashboardSource} from '../../../../src/ui/dashboard/types.js'
import {aCluster, aNode, aRolloutCluster, aScheduledCluster} from './fixtures.js'

const ESC = '\u001B'
const COLOUR = new RegExp(`${ESC}\\[(3[0-9]|9[0-7])m`)

function state(...actions: Action[]): DashboardState {
  return actions.reduce(reduce, reduce(initialState(), {type: 'snapshot', snapshot: aCluster()}))
}

const key = (input: string): Action => ({type: 'key', key: {input}})

function frame(s: DashboardState, options: {color?: boolean; width?: number; height?: number} = {}): string {
  const {lastFrame, unmount} = render(
    <ColorContext.Provider value={options.color ?? false}>
      <Dashboard state={s} label="/srv/state.db" width={options.width ?? 80} height={options.height ?? 23} />
    </ColorContext.Provider>,
  )
  const out = lastFrame() ?? ''
  unmount()
  return out
}

const strip = (text: string): string => text.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '')

function expectFits(out: string, width: number, height: number): void {
  const lines = strip(out).split('\n')
  expect(lines.length, out).to.be.at.most(height)
  for (const line of lines) expect(line.length, line).to.be.at.most(width)
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await sleep(10)
  expect(check(), what).to.equal(true)
}

describe('ui/dashboard components (ink-testing-library)', () => {
  it('the summary shows nodes by state and allocation bars, in 80x24', () => {
    const out = frame(state())
    expect(out).to.include('clusterctl dashboard  /srv/state.db')
    expect(out).to.include('[1 Summary]')
    expect(out).to.match(/Nodes\s+3\s+ready 2\s+cordoned 1/)
    expect(out).to.match(/CPU\s+\[\|+ +\]\s+33%\s+4 \/ 12 cores allocated/)
    expect(out).to.match(/Memory\s+\[\|+ +\]\s+25%\s+6Gi \/ 24Gi allocated/)
    expect(out).to.include('Pending (1)')
    expect(out).to.include('web.2: 0/2 nodes fit')
    expect(out).to.include('node/h3  cordoned: takes no new work')
    expectFits(out, 80, 23)
  })

  it('the nodes table: state, bars, tasks, last heartbeat, findings; the selection is marked', () => {
    const snapshot = aCluster()
    snapshot.nodes[1] = aNode('h2', {missedHeartbeats: 2, heartbeatError: 'connect ETIMEDOUT', state: 'suspect'})
    const out = frame(reduce(state(key('2'), key('j')), {type: 'snapshot', snapshot}))
    const lines = out.split('\n')
    expect(lines[2]).to.match(/^ {2}NAME\s+STATE\s+CPU\s+MEM\s+TASKS\s+SEEN\s+LATENCY\s+FINDINGS/)
    expect(lines[3]).to.match(/^ {2}h1\s+ready\s+\[\|+ *\]\s+75%\s+\[\|+ *\]\s+63%\s+2\s+2s\s+1\.26s\s+-/)
    expect(lines[4]).to.match(/^> h2\s+suspect\s+\[.*\s1\s+2s\s+1\.26s\s+heartbeat/)
    expect(lines[5]).to.match(/^ {2}h3\s+cordoned\s+\[ +\]\s+0%/)
    expectFits(out, 80, 23)
  })

  it('the tasks table: job, instance, node, state, health, ports, age, restarts', () => {
    const out = frame(state(key('4')))
    expect(out).to.match(/JOB\s+INST\s+NODE\s+STATE\s+HEALTH\s+PORTS\s+AGE\s+RST/)
    expect(out).to.match(/web\s+0\s+h1\s+running\s+healthy\s+31000->8080\s+4m\s+0/)
    expect(out).to.match(/web\s+2\s+-\s+pending\s+unknown\s+-\s+5m\s+0/)
  })

  it('the job detail: spec, instances, pending reasons, recent events', () => {
    const out = frame(state(key('3'), key('j'), {type: 'key', key: {input: '\r', return: true}}))
    expect(out).to.match(/Job web\s+service, active\s+3 wanted: 2 running, 1 pending/)
    expect(out).to.include('image localhost/test:latest')
    expect(out).to.match(/each cpus 1, mem 1Gi\s+ports 8080\/tcp\s+health none\s+restart always/)
    expect(out).to.match(/INST\s+NODE\s+STATE/)
    expect(out).to.include('Pending (1)')
    expect(out).to.include('web.2: 0/2 nodes fit: 2 insufficient mem')
    expect(out).to.include('Recent events')
    expect(out).to.include('job.created')
    expectFits(out, 80, 23)
  })

  it('the detail of a scheduled job: schedule, next times with their UTC offsets, parents, its runs (id, trigger, state, exit code, times)', () => {
    const opened = reduce(initialState(), {type: 'snapshot', snapshot: aScheduledCluster()})
    const s = [key('3'), key('j'), {type: 'key', key: {input: '\r', return: true}} as Action].reduce(reduce, opened)
    expect(s.detail).to.deep.equal({kind: 'job', name: 'tick'})
    const out = frame(s, {width: 120, height: 30})
    expect(out).to.match(/Job tick\s+batch, active/)
    expect(out).to.include('schedule */10 * * * * (America/New_York)')
    expect(out).to.include('next runs 2026-01-01T07:10:00-05:00, 2026-01-01T07:20:00-05:00, 2026-01-01T07:30:00-05:00')
    expect(out).to.include('parents extract')
    expect(out).to.match(/Runs \(newest 3; clusterctl runs tick for all\)/)
    expect(out).to.match(/RUN\s+TRIGGER\s+STATE\s+EXIT\s+START\s+END\s+NODE/)
    expect(out).to.match(/tick@20260101T115900\.768Z\s+manual\s+running\s+-\s+2026-01-01T11:59:01\.768Z\s+-\s+h1/)
    expect(out).to.match(/tick@20260101T115000Z\s+schedule\s+failed\s+3\s+2026-01-01T11:50:01Z\s+2026-01-01T11:50:05Z\s+h2\s+exited with/)
    expect(out).to.match(/tick@20260101T114000Z\s+schedule\s+succeeded\s+0\s/)
    expectFits(out, 120, 30)
    // 80x24: still the id, trigger, state and exit code of every run; the times that fit.
    const small = frame(s)
    expect(small).to.match(/tick@20260101T115000Z\s+schedule\s+failed\s+3\s+2026-01-01T11:50:01Z/)
    expect(small).to.include('next runs 2026-01-01T07:10:00-05:00')
    expectFits(small, 80, 23)
  })

  it('the detail of a scheduled job before its runs are read; a plain job has no runs section', () => {
    const snapshot = {...aScheduledCluster(), jobRuns: null}
    const s = [key('3'), key('j'), {type: 'key', key: {input: '\r', return: true}} as Action].reduce(reduce, reduce(initialState(), {type: 'snapshot', snapshot}))
    const out = frame(s)
    expect(out).to.include('schedule reading...')
    expect(out).to.match(/Runs\s*\n\s+RUN\s+TRIGGER\s+STATE\s+EXIT\s+START\s+END\s+NODE\s*\n\s+reading\.\.\./)
    expect(out).to.include('reading...')
    expect(frame(state(key('3'), key('j'), {type: 'key', key: {input: '\r', return: true}}))).not.to.match(/^Runs/m)
  })

  it('the jobs list shows each open rollout in a few words: rolling, canary waiting for promote, rolling back, paused; `-` without one', () => {
    const out = frame([key('3')].reduce(reduce, reduce(initialState(), {type: 'snapshot', snapshot: aRolloutCluster()})))
    expect(out).to.match(/NAME\s+KIND\s+STATE\s+WANT\s+RUN\s+PEND\s+ROLLOUT\s+CPUS/)
    expect(out).to.match(/api\s+service\s+active\s+3\s+0\s+0\s+canary v3 waits promote\s/)
    expect(out).to.match(/cache\s+service\s+active\s+2\s+0\s+0\s+paused v5 1\/2\s/)
    expect(out).to.match(/db\s+service\s+active\s+1\s+0\s+0\s+rolling back to v2 0\/1\s/)
    expect(out).to.match(/web\s+service\s+active\s+4\s+4\s+0\s+rolling v3 2\/4\s/)
    expectFits(out, 80, 23)
    expect(frame(state(key('3')))).to.match(/web\s+service\s+active\s+3\s+2\s+1\s+-\s/)
  })

  it('the Events view shows deployment events with their whole type (the column widens), a superseded version (or a completed rollback) in warning colour', () => {
    const s = [key('5')].reduce(reduce, reduce(initialState(), {type: 'snapshot', snapshot: aRolloutCluster()}))
    const out = frame(s)
    expect(out).to.match(/deployment\.superseded\s+job\/cache\s+version 4 superseded by/)
    expect(out).to.match(/deployment\.rolled-back\s+job\/db\s+version 3 rolled out: back to/)
    expectFits(out, 80, 23)
    const level = chalk.level
    chalk.level = 3
    try {
      // (the newest line is selected: inverse, no colour)
      const yellow = new RegExp(`${ESC}\\[33mdeployment\\.superseded`)
      expect(frame(s, {color: true})).to.match(yellow)
    } finally {
      chalk.level = level
    }
  })

  it('the job detail shows its rollout (`rollout status`, since when) and its newest versions with their outcome; a job without versions read has no rollout section', () => {
    const s = [key('3'), key('j'), key('j'), key('j'), {type: 'key', key: {input: '\r', return: true}} as Action].reduce(reduce, reduce(initialState(), {type: 'snapshot', snapshot: aRolloutCluster()}))
    expect(s.detail).to.deep.equal({kind: 'job', name: 'web'})
    const out = frame(s, {width: 120, height: 30})
    expect(out).to.include('Rollout  web v3 (apply) running: 2 of 4 updated, 2 old; at most 0 unavailable, 1 extra; since 11:55:00 (5m)')
    expect(out).to.match(/VERSION\s+CAUSE\s+STATE\s+CREATED\s+REASON\s+IMAGE/)
    expect(out).to.match(/3\s+apply\s+running\s+2026-01-01T11:55:00\.000Z\s/)
    expect(out).to.match(/2\s+apply\s+failed\s+2026-01-01T10:40:00\.000Z\s+1 new instance failed/)
    expect(out).to.match(/1\s+create\s+succeeded\s/)
    expectFits(out, 120, 30)
    // 80x24: the status wraps, every word of it shown; 60x15: still the status
    const small = frame(s)
    expect(small.replace(/\s+/g, ' ')).to.include('Rollout web v3 (apply) running: 2 of 4 updated, 2 old; at most 0 unavailable, 1 extra; since 11:55:00 (5m)')
    expect(small).to.match(/3\s+apply\s+running/)
    expectFits(small, 80, 23)
    const tiny = frame(s, {width: 60, height: 15})
    expect(tiny).to.match(/^Job web/m)
    expect(tiny).to.include('Rollout  web v3 (apply) running')
    expectFits(tiny, 60, 15)
    expect(frame(state(key('3'), key('j'), {type: 'key', key: {input: '\r', return: true}}))).not.to.include('Rollout')
  })

  it('filter, confirmation and scale prompts show on the status line', () => {
    expect(frame(state(key('2'), key('/'), key('h'), key('3')))).to.match(/\/h3_/)
    expect(frame(state(key('2'), key('/'), key('h'), key('3')))).not.to.match(/^ {2}h1 /m)
    expect(frame(state(key('2'), key('d')))).to.include('Drain h1? It takes no new work and its tasks move to other nodes. y/N')
    expect(frame(state(key('3'), key('s')))).to.include('Scale db (now 1) to: _')
    expect(frame(state(key('3'), key('s'), key('9'), {type: 'key', key: {input: '\r', return: true}}))).to.include('Scale db from 1 to 9, more than double? y/N')
  })

  it('the logs view says how many of the lines read it shows (the app reads the last 200; the screen fits fewer)', () => {
    const opened = state(key('4'), key('j'), key('l'))
    const taskId = opened.detail?.kind === 'logs' ? opened.detail.taskId : ''
    const lines = Array.from({length: 200}, (_, i) => `line ${i}`)
    const out = frame(reduce(opened, {type: 'logs-loaded', taskId, lines, error: null}))
    expect(out).to.match(/Logs of web\.0 {2}\(newest \d+ of the 200 lines read; r reloads/)
    expect(out).to.include('line 199')
    expect(out).not.to.match(/last \d+ lines/)
    expect(frame(reduce(opened, {type: 'logs-loaded', taskId, lines: ['one'], error: null}))).to.include('(1 line read; r reloads')
  })

  it('help lists every key', () => {
    const out = frame(state(key('?')))
    for (const k of ['tab', 'enter', '/', 'c / u', 'd', 's', 'x', 'l', '?', 'q, ctrl-c']) expect(out).to.include(`  ${k}`)
  })

  it('resizes: the same state fits 120x40 and 60x15', () => {
    expectFits(frame(state(key('2')), {width: 120, height: 39}), 120, 39)
    expectFits(frame(state(key('4')), {width: 60, height: 14}), 60, 14)
  })

  it('colour marks states on a terminal, and none at all with NO_COLOR', () => {
    const level = chalk.level
    chalk.level = 3
    try {
      expect(frame(state(key('2')), {color: true})).to.match(COLOUR)
      expect(frame(state(key('2')), {color: false})).not.to.match(COLOUR)
    } finally {
      chalk.level = level
    }
  })

  describe('App (the container) with a fake source', () => {
    function fakeSource() {
      const calls: string[] = []
      const source: DashboardSource = {
        label: '/srv/state.db',
        snapshot: () => aCluster(),
        setSchedulable: (node, schedulable) => {
          calls.push(`${schedulable ? 'uncordon' : 'cordon'} ${node}`)
          return {changed: true}
        },
        drain: (node) => {
          calls.push(`drain ${node}`)
          return {changed: true}
        },
        scale: async (job, instances) => {
          calls.push(`scale ${job} ${instances}`)
          return {instances, pending: [], failed: 0, convergedBy: null}
        },
        stopTask: (id) => {
          calls.push(`stop ${id}`)
          return {changed: true}
        },
        logs: async () => ['line one', 'line two'],
      }
      return {source, calls}
    }

    const noBus = {subscribe: () => () => {}}

    it('keys drive the services: cordon the selected node, drain after y, scale a job, read logs', async () => {
      const {source, calls} = fakeSource()
      let quit = 0
      const app = render(<App source={source} mode="attached" refreshMs={60_000} bus={noBus} onQuit={() => quit++} />)
      const press = async (...keys: string[]): Promise<void> => {
        for (const k of keys) {
          app.stdin.write(k)
          await sleep(15)
        }
      }

      await until(() => (app.lastFrame() ?? '').includes('Nodes     3'), 'the first snapshot is shown')
      await press('2', 'j', 'c')
      await until(() => (app.lastFrame() ?? '').includes('h2 cordoned: takes no new work'), 'the status line tells the cordon')
      expect(calls).to.deep.equal(['cordon h2'])
      await press('d', 'y')
      await until(() => calls.includes('drain h2'), 'drain after y')
      // one chunk, as a fast typist over SSH sends it: the backspace applies in order
      await press('3', 's', '5\u007F2\r')
      await until(() => (app.lastFrame() ?? '').includes('db scaled to 2'), 'scale outcome')
      await press('s', '4', '\r')
      await until(() => (app.lastFrame() ?? '').includes('Scale db from 1 to 4, more than double? y/N'), 'the confirmation')
      await press('y')
      await until(() => (app.lastFrame() ?? '').includes('db scaled to 4'), 'scale outcome')
      await press('4', 'j', 'l')
      await until(() => (app.lastFrame() ?? '').includes('line two'), 'the logs pane')
      expect(app.lastFrame()).to.include('Logs of web.0')
      await press('q')
      await until(() => quit === 1, 'onQuit called')
      app.unmount()
    })

    it('an open job detail reads the runs of that job: at once on enter, and on every refresh after', async () => {
      const {source} = fakeSource()
      const focus: Array<string | undefined> = []
      source.snapshot = (_after, f) => {
        focus.push(f?.job)
        return f?.job === 'tick' ? aScheduledCluster() : {...aScheduledCluster(), jobRuns: null}
      }

      const app = render(<App source={source} mode="attached" refreshMs={60_000} bus={noBus} onQuit={() => {}} />)
      await until(() => (app.lastFrame() ?? '').includes('Nodes     3'), 'the first snapshot is shown')
      expect(focus).to.deep.equal([undefined])
      app.stdin.write('3')
      await sleep(15)
      app.stdin.write('j')
      await sleep(15)
      app.stdin.write('\r')
      await until(() => (app.lastFrame() ?? '').includes('tick@20260101T115000Z'), 'the runs of tick')
      expect(focus).to.deep.equal([undefined, 'tick'])
      app.unmount()
    })

    it('daemon lines from the bus land in the event log', async () => {
      const {source} = fakeSource()
      let listener: ((m: BusMessage) => void) | undefined
      const bus = {
        subscribe(l: (m: BusMessage) => void) {
          listener = l
          return () => {}
        },
      }
      const app = render(<App source={source} mode="daemon" refreshMs={60_000} bus={bus} onQuit={() => {}} />)
      await until(() => listener !== undefined, 'subscribed')
      listener!({kind: 'log', at: Date.now(), line: 'placed web.2 on h2: started'})
      app.stdin.write('5')
      await until(() => (app.lastFrame() ?? '').includes('placed web.2 on h2: started'), 'the line in the Events view')
      expect(app.lastFrame()).to.include('clusterctl daemon')
      app.unmount()
    })
  })
})

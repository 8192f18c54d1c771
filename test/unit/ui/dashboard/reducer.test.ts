import {expect} from 'chai'
import fc from 'fast-check'

import {type Action, type DashboardState, initialState, type KeyPress, keysOf, LOG_LIMIT, needsScaleConfirm, reduce, selectedKey} from '../../../../src/ui/dashboard/reducer.js'
import {aCluster, aNode, anEvent, NOW} from './fixtures.js'

const key = (input: string, extra: Omit<KeyPress, 'input'> = {}): Action => ({type: 'key', key: {input, ...extra}})
const TAB = key('', {tab: true})
const ENTER = key('\r', {return: true})
const ESC = key('', {escape: true})
const DOWN = key('', {downArrow: true})

function run(state: DashboardState, ...actions: Action[]): DashboardState {
  return actions.reduce(reduce, state)
}

function typed(text: string): Action[] {
  return [...text].map((c) => key(c))
}

/** A dashboard that has read `aCluster()`, in the given view. */
function loaded(view: 'nodes' | 'jobs' | 'tasks' | 'events' = 'nodes', mode: 'attached' | 'daemon' = 'attached'): DashboardState {
  const index = {nodes: '2', jobs: '3', tasks: '4', events: '5'}[view]
  return run(initialState(mode), {type: 'snapshot', snapshot: aCluster()}, key(index))
}

describe('ui/dashboard/reducer', () => {
  describe('snapshots and the log', () => {
    it('keeps the snapshot and appends its events once, however often they are delivered', () => {
      const snapshot = aCluster()
      const s = run(initialState(), {type: 'snapshot', snapshot}, {type: 'snapshot', snapshot})
      expect(s.snapshot).to.equal(snapshot)
      expect(s.log.map((e) => e.type)).to.deep.equal(['node.added', 'job.created', 'node.cordoned'])
      expect(s.lastEventId).to.equal(snapshot.events.at(-1)!.id)
    })

    it('interleaves daemon lines with events, and keeps at most LOG_LIMIT entries', () => {
      let s = run(initialState('daemon'), {type: 'daemon-log', at: NOW, line: 'acting as the controller'}, {type: 'snapshot', snapshot: aCluster()})
      expect(s.log[0]).to.include({source: 'daemon', message: 'acting as the controller'})
      for (let i = 0; i < LOG_LIMIT + 5; i++) s = reduce(s, {type: 'daemon-log', at: NOW + i, line: `line ${i}`})
      expect(s.log).to.have.length(LOG_LIMIT)
      expect(s.log.at(-1)!.message).to.equal(`line ${LOG_LIMIT + 4}`)
      expect(new Set(s.log.map((e) => e.key)).size).to.equal(LOG_LIMIT)
    })

    it('names a task event by its job and instance', () => {
      const e = anEvent('task.failed', 'task', 'abcdef123456', 'exited 1', {job: 'web', instance: 2})
      const s = reduce(initialState(), {type: 'snapshot', snapshot: {...aCluster(), events: [e]}})
      expect(s.log.at(-1)!.subject).to.equal('task/web.2')
    })
  })

  describe('moving around', () => {
    it('tab and shift-tab cycle the views; 1-5 jump; both close a detail', () => {
      let s = initialState()
      expect(s.view).to.equal('summary')
      s = run(s, TAB, TAB)
      expect(s.view).to.equal('jobs')
      s = run(s, key('', {tab: true, shift: true}))
      expect(s.view).to.equal('nodes')
      s = run(s, key('', {tab: true, shift: true}), key('', {tab: true, shift: true}))
      expect(s.view).to.equal('events')
      s = run(loaded('nodes'), ENTER)
      expect(s.detail).to.deep.equal({kind: 'node', name: 'h1'})
      s = run(s, key('4'))
      expect(s.view).to.equal('tasks')
      expect(s.detail).to.equal(null)
    })

    it('j/k and arrows move the selection within the list and stop at its ends', () => {
      let s = loaded('nodes')
      expect(selectedKey(s)).to.equal('h1')
      s = run(s, key('j'), DOWN)
      expect(selectedKey(s)).to.equal('h3')
      s = run(s, key('j'))
      expect(selectedKey(s)).to.equal('h3')
      s = run(s, key('k'), key('', {upArrow: true}), key('k'))
      expect(selectedKey(s)).to.equal('h1')
      s = run(s, key('G'))
      expect(selectedKey(s)).to.equal('h3')
      s = run(s, key('g'))
      expect(selectedKey(s)).to.equal('h1')
    })

    it('keeps the selected node selected when the rows change under it', () => {
      let s = run(loaded('nodes'), key('j'))
      expect(selectedKey(s)).to.equal('h2')
      const snapshot = aCluster()
      s = reduce(s, {type: 'snapshot', snapshot: {...snapshot, nodes: [aNode('h0'), ...snapshot.nodes]}})
      expect(selectedKey(s)).to.equal('h2')
    })

    it('the event log follows the newest entry until the user moves up, and again after G', () => {
      let s = loaded('events')
      expect(selectedKey(s)).to.equal(s.log.at(-1)!.key)
      s = run(s, key('k'))
      const held = selectedKey(s)
      s = reduce(s, {type: 'daemon-log', at: NOW, line: 'new'})
      expect(selectedKey(s)).to.equal(held)
      s = run(s, key('G'), {type: 'daemon-log', at: NOW, line: 'newer'})
      expect(selectedKey(s)).to.equal(s.log.at(-1)!.key)
    })

    it('enter on a task opens its job with that task selected; esc goes back', () => {
      let s = run(loaded('tasks'), key('j'))
      const task = selectedKey(s)
      s = run(s, ENTER)
      expect(s.detail).to.deep.equal({kind: 'job', name: 'web'})
      expect(selectedKey(s)).to.equal(task)
      s = run(s, ESC)
      expect(s.detail).to.equal(null)
      expect(s.view).to.equal('tasks')
    })
  })

  describe('filter', () => {
    it('/ filters the current list as the user types; enter keeps it, esc clears it', () => {
      let s = run(loaded('nodes'), key('/'), ...typed('h3'))
      expect(s.prompt).to.deep.include({kind: 'filter', text: 'h3'})
      expect(selectedKey(s)).to.equal('h3')
      s = run(s, ENTER)
      expect(s.prompt).to.equal(null)
      expect(s.filters.nodes).to.equal('h3')
      s = run(s, ESC)
      expect(s.filters.nodes).to.equal('')
    })

    it('esc while typing restores the filter there was; backspace deletes', () => {
      let s = run(loaded('nodes'), key('/'), ...typed('cordonedx'), key('', {backspace: true}))
      expect(s.filters.nodes).to.equal('cordoned')
      s = run(s, ENTER, key('/'), ...typed(' zzz'), ESC)
      expect(s.filters.nodes).to.equal('cordoned')
      expect(s.prompt).to.equal(null)
    })

    it('a chunk of keys (typed fast or pasted) counts key by key, Enter included', () => {
      const s = run(loaded('nodes'), key('/h2\rc'))
      expect(s.filters.nodes).to.equal('h2')
      expect(s.prompt).to.equal(null)
      expect(s.outbox).to.deep.equal([{id: 1, kind: 'set-schedulable', node: 'h2', schedulable: false}])
      expect(selectedKey(run(loaded('nodes'), key('jj')))).to.equal('h3')
    })

    it('filters per view, and keys typed into the filter are not commands', () => {
      const s = run(loaded('nodes'), key('/'), ...typed('qcd'))
      expect(s.quitting).to.equal(false)
      expect(s.outbox).to.deep.equal([])
      expect(s.filters.tasks).to.equal('')
    })
  })

  describe('actions', () => {
    it('c and u queue a cordon / uncordon of the selected node', () => {
      const s = run(loaded('nodes'), key('j'), key('c'), key('j'), key('u'))
      expect(s.outbox).to.deep.equal([
        {id: 1, kind: 'set-schedulable', node: 'h2', schedulable: false},
        {id: 2, kind: 'set-schedulable', node: 'h3', schedulable: true},
      ])
      expect(s.status!.text).to.equal('uncordoning h3...')
      const taken = reduce(s, {type: 'effects-taken', ids: [1]})
      expect(taken.outbox.map((e) => e.id)).to.deep.equal([2])
    })

    it('c outside the nodes says where to go, and queues nothing', () => {
      const s = run(loaded('jobs'), key('c'))
      expect(s.outbox).to.deep.equal([])
      expect(s.status).to.deep.include({tone: 'error'})
    })

    it('d asks first: y drains, anything else cancels', () => {
      let s = run(loaded('nodes'), key('d'))
      expect(s.confirm).to.deep.equal({kind: 'drain', node: 'h1'})
      expect(s.outbox).to.deep.equal([])
      s = run(s, key('n'))
      expect(s.confirm).to.equal(null)
      expect(s.status!.text).to.equal('cancelled')
      s = run(s, key('d'), key('y'))
      expect(s.outbox).to.deep.equal([{id: 1, kind: 'drain', node: 'h1'}])
    })

    it('s asks for the instance count in an empty prompt (the current one beside it): typing 5 on a 3-instance job scales to 5, not 35', () => {
      let s = run(loaded('jobs'), key('j'), key('s'))
      expect(s.prompt).to.deep.equal({kind: 'scale', job: 'web', text: '', current: 3})
      s = run(s, ...typed('x5'))
      expect(s.prompt).to.deep.include({text: '5'})
      s = run(s, ENTER)
      expect(s.outbox).to.deep.equal([{id: 1, kind: 'scale', job: 'web', instances: 5}])
      expect(s.status!.text).to.match(/scaling web to 5/)
    })

    it('a backspace in the same chunk as other keys applies in order (fast typing, SSH): "5<BS>3" is 3, "45<BS><BS>2" is 2', () => {
      const prompt = (chunk: string) => run(loaded('jobs'), key('j'), key('s'), key(chunk)).prompt
      expect(prompt('5\u007F3')).to.deep.include({text: '3'})
      expect(prompt('45\u007F\u007F2')).to.deep.include({text: '2'})
      expect(prompt('5\b')).to.deep.include({text: ''})
      const s = run(loaded('jobs'), key('j'), key('s'), key('6\u007F4\r'))
      expect(s.outbox).to.deep.equal([{id: 1, kind: 'scale', job: 'web', instances: 4}])
    })

    it('property: however the keys are cut into chunks, the prompt ends as if typed one by one', () => {
      const keyArb = fc.constantFrom('0', '1', '5', '9', '\u007F', '\b')
      fc.assert(
        fc.property(fc.array(keyArb, {maxLength: 12}), fc.array(fc.integer({min: 1, max: 4}), {maxLength: 12}), (keys, cuts) => {
          let model = ''
          for (const k of keys) model = k === '\u007F' || k === '\b' ? model.slice(0, -1) : model + k
          const chunks: string[] = []
          for (let i = 0, c = 0; i < keys.length; c++) {
            const n = cuts[c % Math.max(1, cuts.length)] ?? 1
            chunks.push(keys.slice(i, i + n).join(''))
            i += n
          }

          const s = run(loaded('jobs'), key('j'), key('s'), ...chunks.map((c) => (c.length === 1 && (c === '\u007F' || c === '\b') ? key('', {backspace: true}) : key(c))))
          expect(s.prompt).to.deep.include({text: model})
        }),
      )
    })

    it('a new count more than double the current one asks first: y scales, anything else cancels', () => {
      let s = run(loaded('jobs'), key('j'), key('s'), ...typed('45'), ENTER)
      expect(s.outbox).to.deep.equal([])
      expect(s.confirm).to.deep.equal({kind: 'scale', job: 'web', from: 3, instances: 45})
      s = run(s, key('n'))
      expect(s.confirm).to.equal(null)
      expect(s.outbox).to.deep.equal([])
      expect(s.status!.text).to.equal('cancelled')
      s = run(s, key('s'), ...typed('7'), ENTER, key('y'))
      expect(s.outbox).to.deep.equal([{id: 1, kind: 'scale', job: 'web', instances: 7}])
      // double or less, or down: no question
      expect(run(loaded('jobs'), key('j'), key('s'), ...typed('6'), ENTER).outbox).to.deep.equal([{id: 1, kind: 'scale', job: 'web', instances: 6}])
      expect(run(loaded('jobs'), key('j'), key('s'), ...typed('0'), ENTER).outbox).to.deep.equal([{id: 1, kind: 'scale', job: 'web', instances: 0}])
      expect(needsScaleConfirm(0, 2)).to.equal(false)
      expect(needsScaleConfirm(0, 3)).to.equal(true)
      expect(needsScaleConfirm(4, 8)).to.equal(false)
      expect(needsScaleConfirm(4, 9)).to.equal(true)
    })

    it('keysOf splits a chunk into keys: Enter, backspace, delete, tab, arrows, escape, text', () => {
      expect(keysOf('a\r\u007F\b\t\u001b[A\u001b[3~\u001bOB\u001b[Zx\u001b')).to.deep.equal([
        {input: 'a'},
        {input: '\r', return: true},
        {input: '', backspace: true},
        {input: '', backspace: true},
        {input: '', tab: true},
        {input: '', upArrow: true},
        {input: '', delete: true},
        {input: '', downArrow: true},
        {input: '', tab: true, shift: true},
        {input: 'x'},
        {input: '', escape: true},
      ])
    })

    it('an empty instance count is refused and the prompt stays', () => {
      const s = run(loaded('jobs'), key('s'), ENTER)
      expect(s.outbox).to.deep.equal([])
      expect(s.prompt).to.deep.include({kind: 'scale'})
      expect(s.status!.tone).to.equal('error')
    })

    it('x asks, then queues a stop of the selected task; l opens its logs and queues a fetch', () => {
      let s = run(loaded('tasks'), key('x'))
      expect(s.confirm).to.deep.include({kind: 'stop-task', label: 'db.0'})
      s = run(s, key('y'))
      expect(s.outbox[0]).to.deep.include({kind: 'stop-task', label: 'db.0'})
      s = run(s, key('j'), key('l'))
      const taskId = selectedKey(run(loaded('tasks'), key('j')))!
      expect(s.detail).to.deep.include({kind: 'logs', taskId, label: 'web.0', lines: null})
      expect(s.outbox[1]).to.deep.equal({id: 2, kind: 'logs', taskId})
      s = reduce(s, {type: 'logs-loaded', taskId, lines: ['hello'], error: null})
      expect(s.detail).to.deep.include({lines: ['hello']})
      s = run(s, ESC)
      expect(s.detail).to.equal(null)
    })
  })

  describe('help and quitting', () => {
    it('? shows help; any key closes it', () => {
      let s = run(loaded('nodes'), key('?'))
      expect(s.help).to.equal(true)
      s = run(s, key('j'))
      expect(s.help).to.equal(false)
      expect(selectedKey(s)).to.equal('h1')
    })

    it('q queues quit once; afterwards keys do nothing', () => {
      const s = run(loaded('nodes'), key('q'), key('q'), key('c'))
      expect(s.quitting).to.equal(true)
      expect(s.outbox).to.deep.equal([{id: 1, kind: 'quit'}])
    })

    it('ctrl-c quits even while a prompt is open; in daemon mode the status says the daemon is stopping', () => {
      const s = run(loaded('nodes', 'daemon'), key('/'), key('c', {ctrl: true}))
      expect(s.outbox).to.deep.equal([{id: 1, kind: 'quit'}])
      expect(s.status!.text).to.match(/stopping the daemon/)
      expect(reduce(s, {type: 'daemon-stopped'}).status!.text).to.match(/lease released/)
    })
  })
})

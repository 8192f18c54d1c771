/**
 * The dashboard's state and its one pure reducer (DESIGN 11): snapshots of the
 * state file, daemon log lines and key presses in, view state out. What must
 * happen outside (cordon a node, scale a job, fetch logs, quit) is queued as data
 * in `outbox`; the container component runs it and reports back with
 * `effect-done`. No clock, no I/O, no React here.
 */
import type {ClusterEvent} from '../../core/model/event.js'
import {withoutControls} from './format.js'
import {findJobByName, findNodeByName, findTaskById, jobRows, type LogEntry, logRows, nodeRows, taskLabel, taskRows} from './selectors.js'
import type {DashboardSnapshot} from './types.js'

export const VIEWS = ['summary', 'nodes', 'jobs', 'tasks', 'events'] as const
export type View = (typeof VIEWS)[number]
export const VIEW_TITLES: Record<View, string> = {summary: 'Summary', nodes: 'Nodes', jobs: 'Jobs', tasks: 'Tasks', events: 'Events'}

export type Detail =
  | {kind: 'job'; name: string}
  | {kind: 'node'; name: string}
  | {kind: 'logs'; taskId: string; label: string; lines: string[] | null; error: string | null; back: Detail | null}

/** The scale prompt starts empty (`current` is shown beside it): typing replaces the count, never appends to it. */
export type Prompt = {kind: 'filter'; text: string; before: string} | {kind: 'scale'; job: string; text: string; current: number | null}
export type Confirm = {kind: 'drain'; node: string} | {kind: 'stop-task'; taskId: string; label: string} | {kind: 'scale'; job: string; from: number; instances: number}

export type Effect =
  | {id: number; kind: 'set-schedulable'; node: string; schedulable: boolean}
  | {id: number; kind: 'drain'; node: string}
  | {id: number; kind: 'scale'; job: string; instances: number}
  | {id: number; kind: 'stop-task'; taskId: string; label: string}
  | {id: number; kind: 'logs'; taskId: string}
  | {id: number; kind: 'refresh'}
  | {id: number; kind: 'quit'}

type WithoutId<E> = E extends unknown ? Omit<E, 'id'> : never
type NewEffect = WithoutId<Effect>

export interface Status {
  text: string
  tone: 'info' | 'ok' | 'error'
}

/** The keys the dashboard reads (a subset of Ink's `Key`, so this file needs no Ink). */
export interface KeyPress {
  input: string
  upArrow?: boolean
  downArrow?: boolean
  leftArrow?: boolean
  rightArrow?: boolean
  pageUp?: boolean
  pageDown?: boolean
  home?: boolean
  end?: boolean
  return?: boolean
  escape?: boolean
  tab?: boolean
  shift?: boolean
  ctrl?: boolean
  meta?: boolean
  backspace?: boolean
  delete?: boolean
}

type Slot = 'nodes' | 'jobs' | 'tasks' | 'events' | 'detail'

export interface DashboardState {
  /** `daemon`: the daemon runs in this process and quitting stops it. `attached`: only reading the state file. */
  mode: 'attached' | 'daemon'
  view: View
  detail: Detail | null
  help: boolean
  filters: Record<View, string>
  /** Selected row per list, by key (node name, job name, task id, log key); null: the first (events: follow the newest). */
  selected: Record<Slot, string | null>
  prompt: Prompt | null
  confirm: Confirm | null
  status: Status | null
  snapshot: DashboardSnapshot | null
  lastEventId: number
  log: LogEntry[]
  logSeq: number
  outbox: Effect[]
  nextEffectId: number
  /** Rows a page key moves. */
  pageSize: number
  quitting: boolean
}

export type Action =
  | {type: 'snapshot'; snapshot: DashboardSnapshot}
  | {type: 'daemon-log'; at: number; line: string}
  | {type: 'key'; key: KeyPress}
  | {type: 'viewport'; rows: number}
  | {type: 'effects-taken'; ids: number[]}
  | {type: 'effect-done'; status: Status}
  | {type: 'logs-loaded'; taskId: string; lines: string[] | null; error: string | null}
  | {type: 'daemon-stopped'}

/** How many log entries (events and daemon lines) are kept. */
export const LOG_LIMIT = 1000

export function initialState(mode: DashboardState['mode'] = 'attached'): DashboardState {
  return {
    mode,
    view: 'summary',
    detail: null,
    help: false,
    filters: {summary: '', nodes: '', jobs: '', tasks: '', events: ''},
    selected: {nodes: null, jobs: null, tasks: null, events: null, detail: null},
    prompt: null,
    confirm: null,
    status: null,
    snapshot: null,
    lastEventId: 0,
    log: [],
    logSeq: 0,
    outbox: [],
    nextEffectId: 1,
    pageSize: 10,
    quitting: false,
  }
}

export function reduce(state: DashboardState, action: Action): DashboardState {
  switch (action.type) {
    case 'snapshot':
      return onSnapshot(state, action.snapshot)
    case 'daemon-log':
      return appendLog(state, [{key: `l${state.logSeq}`, at: action.at, source: 'daemon', type: 'daemon', subject: '', message: action.line, event: null}], state.logSeq + 1)
    case 'key':
      return onKey(state, action.key)
    case 'viewport':
      return {...state, pageSize: Math.max(1, action.rows)}
    case 'effects-taken':
      return {...state, outbox: state.outbox.filter((e) => !action.ids.includes(e.id))}
    case 'effect-done':
      return {...state, status: action.status}
    case 'logs-loaded': {
      const d = state.detail
      if (d?.kind !== 'logs' || d.taskId !== action.taskId) return state
      return {...state, detail: {...d, lines: action.lines, error: action.error}}
    }

    case 'daemon-stopped':
      return {...state, quitting: true, status: {text: 'daemon stopped; lease released', tone: 'ok'}}
  }
}

function onSnapshot(state: DashboardState, snapshot: DashboardSnapshot): DashboardState {
  const fresh = snapshot.events.filter((e) => e.id > state.lastEventId)
  const next = {...state, snapshot, lastEventId: Math.max(state.lastEventId, ...fresh.map((e) => e.id))}
  return fresh.length === 0 ? next : appendLog(next, fresh.map(eventEntry), state.logSeq)
}

function eventEntry(e: ClusterEvent): LogEntry {
  return {key: `e${e.id}`, at: e.at, source: 'event', type: e.type, subject: e.subjectKind === 'task' ? `task/${String(e.data.job ?? e.subject.slice(0, 8))}${e.data.instance === undefined ? '' : `.${String(e.data.instance)}`}` : `${e.subjectKind}/${e.subject}`, message: e.message, event: e}
}

function appendLog(state: DashboardState, entries: LogEntry[], logSeq: number): DashboardState {
  const log = [...state.log, ...entries]
  return {...state, log: log.length > LOG_LIMIT ? log.slice(log.length - LOG_LIMIT) : log, logSeq}
}

function emit(state: DashboardState, effect: NewEffect): DashboardState {
  return {...state, outbox: [...state.outbox, {...effect, id: state.nextEffectId} as Effect], nextEffectId: state.nextEffectId + 1}
}

function say(state: DashboardState, text: string, tone: Status['tone'] = 'info'): DashboardState {
  return {...state, status: {text, tone}}
}

function quit(state: DashboardState): DashboardState {
  if (state.quitting) return state
  const text = state.mode === 'daemon' ? 'stopping the daemon: the pass in progress finishes, then the lease is released...' : 'bye'
  return emit({...say(state, text), quitting: true, prompt: null, confirm: null, help: false}, {kind: 'quit'})
}

// ---- selection --------------------------------------------------------------

function slotOf(state: DashboardState): Slot | null {
  if (state.detail) return state.detail.kind === 'logs' ? null : 'detail'
  return state.view === 'summary' ? null : state.view
}

/** Keys of the rows the current list shows, in order. */
export function listKeys(state: DashboardState): string[] {
  const d = state.detail
  if (d?.kind === 'job') return taskRows(state.snapshot, '', {job: d.name}).map((t) => t.id)
  if (d?.kind === 'node') return taskRows(state.snapshot, '', {node: d.name}).map((t) => t.id)
  if (d) return []
  const filter = state.filters[state.view]
  switch (state.view) {
    case 'nodes':
      return nodeRows(state.snapshot, filter).map((r) => r.node.name)
    case 'jobs':
      return jobRows(state.snapshot, filter).map((r) => r.job.name)
    case 'tasks':
      return taskRows(state.snapshot, filter).map((t) => t.id)
    case 'events':
      return logRows(state.log, filter).map((e) => e.key)
    case 'summary':
      return []
  }
}

/** Index of the selected row of the current list (-1: the list is empty). */
export function selectedIndex(state: DashboardState): number {
  const slot = slotOf(state)
  const keys = listKeys(state)
  if (slot === null || keys.length === 0) return -1
  const key = state.selected[slot]
  const at = key === null ? -1 : keys.indexOf(key)
  if (at >= 0) return at
  return slot === 'events' ? keys.length - 1 : 0
}

export function selectedKey(state: DashboardState): string | null {
  const i = selectedIndex(state)
  return i < 0 ? null : listKeys(state)[i] ?? null
}

function move(state: DashboardState, to: (index: number, count: number) => number): DashboardState {
  const slot = slotOf(state)
  const keys = listKeys(state)
  if (slot === null || keys.length === 0) return state
  const index = Math.max(0, Math.min(keys.length - 1, to(selectedIndex(state), keys.length)))
  // The event log follows new events again once the newest is selected.
  const key = slot === 'events' && index === keys.length - 1 ? null : keys[index]!
  return {...state, selected: {...state.selected, [slot]: key}}
}

// ---- targets of actions -----------------------------------------------------

function nodeTarget(state: DashboardState): string | null {
  if (state.detail?.kind === 'node') return state.detail.name
  if (!state.detail && state.view === 'nodes') return selectedKey(state)
  return null
}

function taskTarget(state: DashboardState): string | null {
  if (state.detail?.kind === 'logs') return state.detail.taskId
  if (state.detail || state.view === 'tasks') return selectedKey(state)
  return null
}

function jobTarget(state: DashboardState): string | null {
  if (state.detail?.kind === 'job') return state.detail.name
  if (!state.detail && state.view === 'jobs') return selectedKey(state)
  const task = taskTarget(state)
  return task === null ? null : findTaskById(state.snapshot, task)?.jobName ?? null
}

// ---- keys -------------------------------------------------------------------

/**
 * Keys typed faster than they are read (fast typing, a paste, any SSH session) arrive as
 * one chunk: split it into the keys it holds, in order, so a backspace, an Enter or an
 * arrow inside the chunk acts where it was typed instead of being dropped or typed as text.
 */
export function keysOf(chunk: string): KeyPress[] {
  const keys: KeyPress[] = []
  const chars = [...chunk]
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!
    if (ch === '\r' || ch === '\n') keys.push({input: '\r', return: true})
    else if (ch === '\x7f' || ch === '\b') keys.push({input: '', backspace: true})
    else if (ch === '\t') keys.push({input: '', tab: true})
    else if (ch === '\x1b') {
      // CSI (ESC [ ... final byte) and SS3 (ESC O x): arrows and friends; a lone ESC is escape.
      const next = chars[i + 1]
      if (next === '[' || next === 'O') {
        let j = i + 2
        while (j < chars.length && next === '[' && /[0-9;]/.test(chars[j]!)) j++
        const final = chars[j] ?? ''
        const arrow = {A: 'upArrow', B: 'downArrow', C: 'rightArrow', D: 'leftArrow'}[final] as keyof KeyPress | undefined
        const params = chars.slice(i + 2, j).join('')
        if (arrow !== undefined) keys.push({input: '', [arrow]: true})
        else if (final === '~' && params === '3') keys.push({input: '', delete: true})
        else if (final === '~' && params === '5') keys.push({input: '', pageUp: true})
        else if (final === '~' && params === '6') keys.push({input: '', pageDown: true})
        else if (final === 'Z') keys.push({input: '', tab: true, shift: true})
        i = j
      } else keys.push({input: '', escape: true})
    } else keys.push({input: ch})
  }

  return keys
}

function onKey(state: DashboardState, key: KeyPress): DashboardState {
  if (!key.ctrl && !key.meta && [...key.input].length > 1) return keysOf(key.input).reduce(onKey, state)

  if (key.ctrl && key.input === 'c') return quit(state)
  if (state.quitting) return state
  if (state.help) return key.input === 'q' ? quit(state) : {...state, help: false}
  if (state.confirm) return onConfirm(state, state.confirm, key)
  if (state.prompt) return onPrompt(state, state.prompt, key)
  return onCommand(state, key)
}

function onConfirm(state: DashboardState, confirm: Confirm, key: KeyPress): DashboardState {
  const next = {...state, confirm: null}
  if (key.input !== 'y' && key.input !== 'Y') return say(next, 'cancelled')
  if (confirm.kind === 'scale') return scale(next, confirm.job, confirm.instances)
  if (confirm.kind === 'drain') return emit(say(next, `draining ${confirm.node}...`), {kind: 'drain', node: confirm.node})
  return emit(say(next, `stopping ${confirm.label}...`), {kind: 'stop-task', taskId: confirm.taskId, label: confirm.label})
}

function onPrompt(state: DashboardState, prompt: Prompt, key: KeyPress): DashboardState {
  const setText = (text: string): DashboardState => {
    const next = {...state, prompt: {...prompt, text}}
    return prompt.kind === 'filter' ? {...next, filters: {...state.filters, [state.view]: text}} : next
  }

  if (key.escape) {
    if (prompt.kind === 'filter') return {...state, prompt: null, filters: {...state.filters, [state.view]: prompt.before}}
    return say({...state, prompt: null}, 'cancelled')
  }

  if (key.return) {
    if (prompt.kind === 'filter') return {...state, prompt: null}
    if (!/^\d+$/.test(prompt.text)) return say(state, `instances: type a whole number >= 0 (got ${JSON.stringify(prompt.text)})`, 'error')
    const instances = Number(prompt.text)
    if (!Number.isSafeInteger(instances)) return say(state, `instances: ${prompt.text} is too large`, 'error')
    const from = prompt.current
    if (from !== null && needsScaleConfirm(from, instances)) return {...state, prompt: null, confirm: {kind: 'scale', job: prompt.job, from, instances}}
    return scale({...state, prompt: null}, prompt.job, instances)
  }

  if (key.backspace || key.delete) return setText(prompt.text.slice(0, -1))
  if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.pageUp || key.pageDown) return state
  const typed = withoutControls(key.input)
  if (typed === '') return state
  if (prompt.kind === 'scale' && !/^\d+$/.test(typed)) return state
  return setText(prompt.text + typed)
}

/** A scale to more than double the current count (of at least 1) asks first: a typo must not start hundreds of containers. */
export function needsScaleConfirm(from: number, to: number): boolean {
  return to > 2 * Math.max(from, 1)
}

function scale(state: DashboardState, job: string, instances: number): DashboardState {
  return emit(say(state, `scaling ${job} to ${instances}: waiting for a pass...`), {kind: 'scale', job, instances})
}

function switchView(state: DashboardState, view: View): DashboardState {
  return {...state, view, detail: null, selected: {...state.selected, detail: null}}
}

function onCommand(state: DashboardState, key: KeyPress): DashboardState {
  const i = key.input
  if (i === 'q') return quit(state)
  if (key.escape) {
    const d = state.detail
    if (d) return {...state, detail: d.kind === 'logs' ? d.back : null, selected: {...state.selected, detail: d.kind === 'logs' ? state.selected.detail : null}}
    if (state.filters[state.view] !== '') return {...state, filters: {...state.filters, [state.view]: ''}}
    return state
  }

  if (key.tab || key.leftArrow || key.rightArrow) {
    const step = (key.tab && key.shift) || key.leftArrow ? -1 : 1
    return switchView(state, VIEWS[(VIEWS.indexOf(state.view) + step + VIEWS.length) % VIEWS.length]!)
  }

  if (/^[1-5]$/.test(i)) return switchView(state, VIEWS[Number(i) - 1]!)
  if (key.upArrow || i === 'k') return move(state, (n) => n - 1)
  if (key.downArrow || i === 'j') return move(state, (n) => n + 1)
  if (key.pageUp) return move(state, (n) => n - state.pageSize)
  if (key.pageDown) return move(state, (n) => n + state.pageSize)
  if (key.home || i === 'g') return move(state, () => 0)
  if (key.end || i === 'G') return move(state, (_n, count) => count - 1)
  if (key.return) return openDetail(state)
  if (i === '?') return {...state, help: true}
  if (i === 'r') return state.detail?.kind === 'logs' ? emit({...state, detail: {...state.detail, lines: null, error: null}}, {kind: 'logs', taskId: state.detail.taskId}) : emit(state, {kind: 'refresh'})
  if (i === '/') {
    if (state.detail || state.view === 'summary') return say(state, 'filter (/) works in the Nodes, Jobs, Tasks and Events views')
    return {...state, prompt: {kind: 'filter', text: state.filters[state.view], before: state.filters[state.view]}}
  }

  if (i === 'c' || i === 'u' || i === 'd') {
    const node = nodeTarget(state)
    if (node === null) return say(state, 'c, u and d act on a node: select one in the Nodes view (tab)', 'error')
    if (i === 'd') return {...state, confirm: {kind: 'drain', node}}
    return emit(say(state, `${i === 'c' ? 'cordoning' : 'uncordoning'} ${node}...`), {kind: 'set-schedulable', node, schedulable: i === 'u'})
  }

  if (i === 's') {
    const job = jobTarget(state)
    if (job === null) return say(state, 's scales a job: select one in the Jobs or Tasks view', 'error')
    return {...state, prompt: {kind: 'scale', job, text: '', current: findJobByName(state.snapshot, job)?.instances ?? null}}
  }

  if (i === 'x' || i === 'l') {
    const taskId = taskTarget(state)
    const task = taskId === null ? undefined : findTaskById(state.snapshot, taskId)
    if (!task) return say(state, `${i} acts on a task: select one in the Tasks view or a job's detail`, 'error')
    if (i === 'x') return {...state, confirm: {kind: 'stop-task', taskId: task.id, label: taskLabel(task)}}
    const back = state.detail?.kind === 'logs' ? state.detail.back : state.detail
    return emit({...state, detail: {kind: 'logs', taskId: task.id, label: taskLabel(task), lines: null, error: null, back}}, {kind: 'logs', taskId: task.id})
  }

  return state
}

function openDetail(state: DashboardState): DashboardState {
  const key = selectedKey(state)
  if (key === null) return state
  // A job's detail reads that job's schedule and runs too: read again now rather than at the next tick.
  const open = (detail: Detail, selected: string | null = null): DashboardState => {
    const next = {...state, detail, selected: {...state.selected, detail: selected}}
    return detail.kind === 'job' ? emit(next, {kind: 'refresh'}) : next
  }
  if (state.detail) {
    // Enter on a task of a job or node detail: that task's job.
    const task = findTaskById(state.snapshot, key)
    return task && state.detail.kind === 'node' ? open({kind: 'job', name: task.jobName}, task.id) : state
  }

  switch (state.view) {
    case 'nodes':
      return open({kind: 'node', name: key})
    case 'jobs':
      return open({kind: 'job', name: key})
    case 'tasks': {
      const task = findTaskById(state.snapshot, key)
      return task ? open({kind: 'job', name: task.jobName}, task.id) : state
    }

    case 'events': {
      const e = state.log.find((l) => l.key === key)?.event
      if (!e) return state
      if (e.subjectKind === 'node' && findNodeByName(state.snapshot, e.subject)) return open({kind: 'node', name: e.subject})
      const job = e.subjectKind === 'job' ? e.subject : typeof e.data.job === 'string' ? e.data.job : null
      return job !== null && findJobByName(state.snapshot, job) ? open({kind: 'job', name: job}) : say(state, `${e.subjectKind}/${e.subject} is gone`)
    }

    case 'summary':
      return state
  }
}

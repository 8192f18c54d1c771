/** Around the views: the header with the view tabs, the status/prompt line, the key hints and the help page. */
import {Box, Text} from 'ink'

import {fit} from '../format.js'
import {type Confirm, type Prompt, type Status, type View, VIEW_TITLES, VIEWS} from '../reducer.js'
import {colorOf, useColor} from './theme.js'

export function Header({title, label, at, view, filter, width}: {title: string; label: string; at: number | null; view: View; filter: string; width: number}) {
  const color = useColor()
  const right = at === null ? 'reading...' : `updated ${new Date(at).toTimeString().slice(0, 8)}`
  const left = `${title}  ${label}`
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold color={colorOf('accent', color)}>
          {title}
        </Text>
        {fit(`  ${label}`, Math.max(0, width - title.length - right.length - 1))}
        {left.length + right.length < width ? ` ${right}` : ''}
      </Text>
      <Text wrap="truncate">
        {VIEWS.map((v, i) => (v === view ? <Text key={v} bold inverse>{`[${i + 1} ${VIEW_TITLES[v]}]`}</Text> : <Text key={v}>{` ${i + 1} ${VIEW_TITLES[v]} `}</Text>))}
        {filter ? <Text color={colorOf('accent', color)}>{`  filter: ${filter}`}</Text> : null}
      </Text>
    </Box>
  )
}

export function StatusLine({prompt, confirm, status, width}: {prompt: Prompt | null; confirm: Confirm | null; status: Status | null; width: number}) {
  const color = useColor()
  if (prompt?.kind === 'filter') return <Text wrap="truncate">{fit(`/${prompt.text}_   (enter keeps it, esc clears it)`, width)}</Text>
  if (prompt?.kind === 'scale') return <Text wrap="truncate">{fit(`Scale ${prompt.job}${prompt.current === null ? '' : ` (now ${prompt.current})`} to: ${prompt.text}_   (enter applies, esc cancels)`, width)}</Text>
  if (confirm) {
    const question =
      confirm.kind === 'drain'
        ? `Drain ${confirm.node}? It takes no new work and its tasks move to other nodes. y/N`
        : confirm.kind === 'scale'
          ? `Scale ${confirm.job} from ${confirm.from} to ${confirm.instances}, more than double? y/N`
          : `Stop task ${confirm.label}? A service's instance is replaced. y/N`
    return (
      <Text wrap="truncate" bold color={colorOf('warn', color)}>
        {fit(question, width)}
      </Text>
    )
  }

  if (!status) return <Text> </Text>
  return (
    <Text wrap="truncate" color={colorOf(status.tone === 'error' ? 'bad' : status.tone === 'ok' ? 'ok' : undefined, color)}>
      {fit(status.text, width)}
    </Text>
  )
}

/** Where the user is, for the key hints. */
export type HintContext = 'summary' | 'nodes' | 'jobs' | 'tasks' | 'events' | 'job' | 'node' | 'logs'

const CONTEXT_HINTS: Record<HintContext, string> = {
  summary: '',
  nodes: 'enter:detail c/u:cordon/uncordon d:drain',
  jobs: 'enter:detail s:scale',
  tasks: 'enter:job x:stop l:logs s:scale',
  events: 'enter:subject G:newest',
  job: 'esc:back x:stop l:logs s:scale',
  node: 'esc:back c/u:cordon d:drain x:stop l:logs',
  logs: 'esc:back r:reload x:stop',
}

export function KeyHints({context, daemon, width}: {context: HintContext; daemon: boolean; width: number}) {
  const color = useColor()
  const common = `tab:view${context === 'job' || context === 'node' || context === 'logs' ? '' : ' /:filter'} ?:help q:${daemon ? 'stop daemon' : 'quit'}`
  return (
    <Text wrap="truncate" color={colorOf('muted', color)}>
      {fit([CONTEXT_HINTS[context], common].filter(Boolean).join('  '), width)}
    </Text>
  )
}

const HELP: Array<[string, string]> = [
  ['tab, shift-tab, left/right, 1-5', 'switch views: Summary, Nodes, Jobs, Tasks, Events'],
  ['up/down, j/k, pgup/pgdn, g/G', 'move the selection'],
  ['enter', 'detail of the selected node, job or task (its job); esc goes back'],
  ['/', 'filter the current list (words, any order); esc clears'],
  ['c / u', 'cordon / uncordon the selected node (Nodes view or node detail)'],
  ['d', 'drain the selected node (asks first)'],
  ['s', 'scale the selected job (Jobs, Tasks, job detail)'],
  ['x', 'stop the selected task (asks first; a service replaces it)'],
  ['l', 'logs of the selected task (r reloads)'],
  ['r', 'read the state file again now'],
  ['?', 'this help (any key closes it)'],
  ['q, ctrl-c', 'quit'],
]

export function Help({daemon, width, height}: {daemon: boolean; width: number; height: number}) {
  const keyWidth = Math.max(...HELP.map(([k]) => k.length)) + 2
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold>Keys</Text>
      {HELP.slice(0, Math.max(0, height - 3)).map(([k, what]) => (
        <Text key={k} wrap="truncate">{`  ${k.padEnd(keyWidth)}${k.startsWith('q') && daemon ? 'stop the daemon (it finishes its pass and releases the lease) and quit' : what}`}</Text>
      ))}
      <Text> </Text>
      <Text wrap="truncate">{daemon ? 'The daemon runs in this process: quitting stops it.' : 'Attached to the state file: quitting never stops a daemon running elsewhere.'}</Text>
    </Box>
  )
}

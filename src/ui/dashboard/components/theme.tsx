/** Colour on or off for every component below (off with NO_COLOR or off a terminal). Inverse and bold stay: they are not colour. */
import {createContext, useContext} from 'react'

import type {NodeState} from '../../../core/model/node.js'
import type {TaskHealth, TaskState} from '../../../core/model/task.js'

export const ColorContext = createContext(true)

export function useColor(): boolean {
  return useContext(ColorContext)
}

export type Tone = 'ok' | 'warn' | 'bad' | 'muted' | 'accent' | undefined

const COLORS: Record<Exclude<Tone, undefined>, string> = {ok: 'green', warn: 'yellow', bad: 'red', muted: 'gray', accent: 'cyan'}

/** The Ink colour of a tone, or undefined when colour is off. */
export function colorOf(tone: Tone, enabled: boolean): string | undefined {
  return enabled && tone ? COLORS[tone] : undefined
}

export function nodeStateTone(state: NodeState): Tone {
  if (state === 'ready') return 'ok'
  if (state === 'down' || state === 'unreachable') return 'bad'
  return 'warn'
}

export function taskStateTone(state: TaskState): Tone {
  if (state === 'running' || state === 'finished') return 'ok'
  if (state === 'failed' || state === 'lost' || state === 'unreachable' || state === 'killed') return 'bad'
  return 'warn'
}

export function healthTone(health: TaskHealth): Tone {
  return health === 'healthy' ? 'ok' : health === 'unhealthy' ? 'bad' : 'muted'
}

/** Share of a capacity in use: green, then yellow above 75 %, red above 90 %. */
export function usageTone(used: number, total: number): Tone {
  if (total <= 0) return 'muted'
  const share = used / total
  return share > 0.9 ? 'bad' : share > 0.75 ? 'warn' : 'ok'
}

/** Colour, only where it helps and only on a terminal; NO_COLOR is honoured by chalk's own detection. */
import chalk, {Chalk} from 'chalk'

import type {NodeState} from '../core/model/node.js'

const plain = new Chalk({level: 0})

function pick(enabled: boolean): typeof chalk {
  return enabled && !process.env.NO_COLOR ? chalk : plain
}

export const paint = {
  error: (text: string, enabled: boolean) => pick(enabled).red.bold(text),
  warn: (text: string, enabled: boolean) => pick(enabled).yellow(text),
  ok: (text: string, enabled: boolean) => pick(enabled).green(text),
  dim: (text: string, enabled: boolean) => pick(enabled).dim(text),
  bold: (text: string, enabled: boolean) => pick(enabled).bold(text),
  nodeState(state: NodeState, enabled: boolean): string {
    const c = pick(enabled)
    switch (state) {
      case 'ready':
        return c.green(state)
      case 'cordoned':
      case 'draining':
      case 'suspect':
        return c.yellow(state)
      case 'down':
      case 'unreachable':
        return c.red(state)
    }
  },
}

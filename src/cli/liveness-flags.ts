/**
 * The liveness flags shared by `daemon` and `schedule`: how long a node may stay silent
 * before it is down, and the floor and ceiling of each node's heartbeat deadline.
 */
import {Flags} from '@oclif/core'

import {UserError} from '../core/errors.js'
import type {PassOptions} from '../core/reconcile/pass.js'
import {DEFAULT_DETECTOR} from '../core/reconcile/detector.js'
import {durationFlag} from './flag-parsers.js'

export const LIVENESS_DEFAULTS = {'down-after': '4s', 'heartbeat-timeout': '1500ms', 'heartbeat-ceiling': '6s'} as const

/** `withDefaults` false: absent flags stay undefined (a one-shot pass keeps its patient defaults). */
export function livenessFlags(withDefaults: boolean) {
  const d = (v: string) => (withDefaults ? {default: v} : {})
  return {
    'down-after': Flags.string({description: 'Silence after which a node that keeps missing heartbeats is down and its tasks are replaced elsewhere.', ...d(LIVENESS_DEFAULTS['down-after'])}),
    'heartbeat-timeout': Flags.string({description: "The shortest heartbeat deadline (the floor): each node's own deadline comes from its recent heartbeat latencies (phi accrual), never below this.", ...d(LIVENESS_DEFAULTS['heartbeat-timeout'])}),
    'heartbeat-ceiling': Flags.string({description: 'The longest heartbeat deadline, however slow a node has been; also the deadline of a node without latency history, and the connect timeout of an observation.', ...d(LIVENESS_DEFAULTS['heartbeat-ceiling'])}),
  }
}

/** The pass options the flags ask for (missing ones take the daemon's defaults); validated, exit 2 on bad input. */
export function livenessOptions(flags: {'down-after'?: string; 'heartbeat-timeout'?: string; 'heartbeat-ceiling'?: string}): Pick<PassOptions, 'heartbeat' | 'detector'> {
  const down = flags['down-after'] ?? LIVENESS_DEFAULTS['down-after']
  const floor = flags['heartbeat-timeout'] ?? LIVENESS_DEFAULTS['heartbeat-timeout']
  const ceiling = flags['heartbeat-ceiling'] ?? LIVENESS_DEFAULTS['heartbeat-ceiling']
  const downAfterMs = durationFlag('--down-after', down, '4s or 1500ms')
  const floorMs = durationFlag('--heartbeat-timeout', floor, '4s or 1500ms', 100)
  const ceilingMs = durationFlag('--heartbeat-ceiling', ceiling, '6s or 4500ms', 100)
  if (ceilingMs < floorMs) throw new UserError(`--heartbeat-ceiling (${ceiling}) must be at least --heartbeat-timeout (${floor}).`)
  return {heartbeat: {downAfterMs, missesToDown: 2}, detector: {...DEFAULT_DETECTOR, floorMs, ceilingMs}}
}

/** `clusterctl what-if`: the cluster's capacity to lose nodes, from the state file (no node is contacted). */
import type {ServiceContext} from '../context.js'
import {FailedError, UserError} from '../errors.js'
import {whatIf, type WhatIfResult, type WhatIfWaiting} from '../reconcile/what-if.js'
import {listJobs, listTasks} from '../state/jobs.js'
import {listNodes} from '../state/nodes.js'
import {listVolumes} from '../state/volumes.js'
import {waitsForNode} from '../model/volume.js'
import {getNode} from './nodes.js'

/** A fixed seed: the same state gives the same answer. */
const SEED = 1

function read(ctx: Pick<ServiceContext, 'store'>) {
  const {store} = ctx
  return store.read(() => ({nodes: listNodes(store), jobs: listJobs(store), tasks: listTasks(store, {live: true}), volumes: listVolumes(store)}))
}

/** If these nodes died: where their work would go, what could not be placed and why. */
export function whatIfDown(ctx: Pick<ServiceContext, 'store'>, names: readonly string[]): WhatIfResult {
  if (names.length === 0) throw new UserError('Name the nodes to lose: clusterctl what-if --down NODE[,NODE...], or --n-1.')
  for (const n of names) getNode(ctx, n)
  return whatIf({...read(ctx), down: names, seed: SEED})
}

/** N-1: the loss of each node on its own. */
export function whatIfEachNode(ctx: Pick<ServiceContext, 'store'>): WhatIfResult[] {
  const state = read(ctx)
  return state.nodes.map((n) => whatIf({...state, down: [n.name], seed: SEED}))
}

/**
 * What a drain of the node will do: what-if with the node down. Without --force (`force`
 * false), refused (exit 1, nothing changed) when the node's work would not fit elsewhere.
 * Its `waiting` tasks keep their data on the node: the drain stops them (docs/volumes.md).
 */
export function drainPreview(ctx: Pick<ServiceContext, 'store'>, name: string, force = false): WhatIfResult {
  const r = whatIfDown(ctx, [name])
  if (r.fits || force) return r
  const u = r.unplaced[0]!
  throw new FailedError(`Draining ${name} would leave ${r.unplaced.length} task(s) with nowhere to go (${u.job}.${u.instance}: ${u.reason}).`, {
    code: 'would-not-fit',
    hint: `Run \`clusterctl what-if --down ${name}\` for the details, or \`clusterctl node drain ${name} --force\` to drain anyway (those tasks keep running there until a replacement can be placed).`,
  })
}

/** `web.0 stops and waits for h2: ...`: what a drain does to a task whose local volume is on the node, and what brings it back. */
export function waitingLine(w: Pick<WhatIfWaiting, 'job' | 'instance' | 'from' | 'volume'>): string {
  return `${w.job}.${w.instance} stops and waits for ${w.from}: ${waitsForNode(w.from, [w.volume])}`
}

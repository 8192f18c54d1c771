/** `clusterctl what-if`: the cluster's capacity to lose nodes, from the state file (no node is contacted). */
import type {ServiceContext} from '../context.js'
import {UserError} from '../errors.js'
import {whatIf, type WhatIfResult} from '../reconcile/what-if.js'
import {listJobs, listTasks} from '../state/jobs.js'
import {listNodes} from '../state/nodes.js'
import {getNode} from './nodes.js'

/** A fixed seed: the same state gives the same answer. */
const SEED = 1

function read(ctx: Pick<ServiceContext, 'store'>) {
  const {store} = ctx
  return store.read(() => ({nodes: listNodes(store), jobs: listJobs(store), tasks: listTasks(store, {live: true})}))
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

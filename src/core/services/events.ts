/** The event log, for `clusterctl events` (and its --follow). */
import type {ServiceContext} from '../context.js'
import type {ClusterEvent} from '../model/event.js'
import {type EventQuery, listEvents} from '../state/events.js'

export type {EventQuery} from '../state/events.js'

/** Events matching the query, oldest first (at most `limit`, the latest). */
export function getEvents(ctx: Pick<ServiceContext, 'store'>, query: EventQuery = {}): ClusterEvent[] {
  return listEvents(ctx.store, query)
}

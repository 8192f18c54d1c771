/** The state file itself: what `clusterctl init` reports. */
import type {ServiceContext} from '../context.js'
import {schemaVersion} from '../state/database.js'

/** The schema version of the open state file (its migrations are applied on open). */
export function stateSchema(ctx: Pick<ServiceContext, 'store'>): number {
  return schemaVersion(ctx.store.db)
}

import type {Database} from 'better-sqlite3'

import * as m0001 from './0001-nodes.js'
import * as m0002 from './0002-events.js'
import * as m0003 from './0003-jobs-tasks.js'
import * as m0004 from './0004-job-generation.js'
import * as m0005 from './0005-leases.js'
import * as m0006 from './0006-failure-watch.js'
import * as m0007 from './0007-heartbeat-latency.js'
import * as m0008 from './0008-runs.js'
import * as m0009 from './0009-health.js'
import * as m0010 from './0010-teams.js'
import * as m0011 from './0011-history-indexes.js'
import * as m0012 from './0012-deployments.js'
import * as m0013 from './0013-edge.js'
import * as m0014 from './0014-volumes.js'

export interface Migration {
  version: number
  up(db: Database): void
}

/** Every migration, in order. Append only: a released migration never changes. */
export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007, m0008, m0009, m0010, m0011, m0012, m0013, m0014]

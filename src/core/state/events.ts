import type {Store} from './store.js'

import type {ClusterEvent, NewEvent, SubjectKind} from '../model/event.js'

export type {ClusterEvent, NewEvent, SubjectKind}

interface EventRow {
  id: number
  at: number
  type: string
  subject_kind: SubjectKind
  subject: string
  message: string
  data: string
}

/** Appends an event. Call inside the write transaction that made the change it records. */
export function appendEvent(store: Store, event: NewEvent): number {
  const info = store
    .stmt(`INSERT INTO events (at, type, subject_kind, subject, message, data) VALUES (?, ?, ?, ?, ?, ?)`)
    .run(store.clock.now(), event.type, event.subjectKind, event.subject, event.message, JSON.stringify(event.data))
  return Number(info.lastInsertRowid)
}

export interface EventQuery {
  sinceMs?: number
  afterId?: number
  subjectKind?: SubjectKind
  subject?: string
  /** A job's own events and those of its tasks. */
  job?: string
  limit?: number
}

export function listEvents(store: Store, query: EventQuery = {}): ClusterEvent[] {
  const rows = store
    .stmt(
      `SELECT * FROM (
         SELECT * FROM events
         WHERE at >= @since AND id > @afterId
           AND (@kind IS NULL OR subject_kind = @kind) AND (@subject IS NULL OR subject = @subject)
           AND (@job IS NULL OR (subject_kind = 'job' AND subject = @job) OR (subject_kind = 'task' AND json_extract(data, '$.job') = @job))
         ORDER BY id DESC LIMIT @limit
       ) ORDER BY id ASC`,
    )
    .all({
      since: query.sinceMs ?? 0,
      afterId: query.afterId ?? 0,
      kind: query.subjectKind ?? null,
      subject: query.subject ?? null,
      job: query.job ?? null,
      limit: query.limit ?? 1000,
    }) as EventRow[]
  return rows.map((row) => ({
    id: row.id,
    at: row.at,
    type: row.type,
    subjectKind: row.subject_kind,
    subject: row.subject,
    message: row.message,
    data: JSON.parse(row.data) as Record<string, unknown>,
  }))
}

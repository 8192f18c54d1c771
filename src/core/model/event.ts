/** An entry of the event log: a state change and its reason. */
export type SubjectKind = 'cluster' | 'node' | 'job' | 'task'

export interface ClusterEvent {
  id: number
  at: number
  type: string
  subjectKind: SubjectKind
  subject: string
  message: string
  data: Record<string, unknown>
}

export type NewEvent = Omit<ClusterEvent, 'id' | 'at'>

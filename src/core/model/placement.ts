/**
 * How a job asks to be placed: hard constraints (Marathon's), soft preferences and a
 * strategy. Part of a job's spec (model/job.ts); the scheduler evaluates them.
 */

export type ConstraintOperator = 'UNIQUE' | 'CLUSTER' | 'GROUP_BY' | 'LIKE' | 'UNLIKE' | 'MAX_PER' | 'IS'

export const CONSTRAINT_OPERATORS: readonly ConstraintOperator[] = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS']

/** A Marathon constraint: `field:OPERATOR[:value]`, field = `hostname` or a node label. */
export interface Constraint {
  field: string
  operator: ConstraintOperator
  value?: string
  /** Why the constraint is there, when clusterctl added it (not the user): shown with a refusal. */
  because?: string
}

/** A soft preference (`--prefer zone=a`): matching nodes rank first, others still take the task. */
export interface Preference {
  field: string
  value: string
  /** Whole number 1..100, default 1. Weights of matched preferences add up. */
  weight?: number
}

export type Strategy = 'binpack' | 'spread'

/**
 * Parsing and validation of Marathon constraints (`hostname:UNIQUE`, `rack:MAX_PER:2`),
 * preferences (`zone=a`) and port ranges (`31000-32000`). Every error is a UserError
 * that shows the corrected form.
 */
import {UserError} from '../errors.js'
import type {Constraint, ConstraintOperator, PortRange, Preference} from './types.js'
import {CONSTRAINT_OPERATORS} from './types.js'

/** The field that means the node's hostname rather than a label. */
export const HOSTNAME_FIELD = 'hostname'

const EXAMPLES: Record<ConstraintOperator, string> = {
  UNIQUE: 'UNIQUE',
  CLUSTER: 'CLUSTER:rack-1',
  GROUP_BY: 'GROUP_BY:3',
  LIKE: 'LIKE:rack-[1-3]',
  UNLIKE: 'UNLIKE:rack-[7-9]',
  MAX_PER: 'MAX_PER:2',
  IS: 'IS:rack-1',
}

/** `rack:MAX_PER:2`: the constraint as a user writes it. */
export function formatConstraint(c: Constraint): string {
  return c.value === undefined ? `${c.field}:${c.operator}` : `${c.field}:${c.operator}:${c.value}`
}

/**
 * Parses `FIELD:OPERATOR[:VALUE]`. The value may itself contain colons (a regex).
 * `@hostname` (Marathon 1.5+) is accepted for `hostname`; operators are case-insensitive.
 */
export function parseConstraint(text: string, flag = '--constraint'): Constraint {
  const trimmed = text.trim()
  const first = trimmed.indexOf(':')
  if (first <= 0) {
    throw new UserError(`${flag} ${JSON.stringify(text)}: expected FIELD:OPERATOR[:VALUE], e.g. hostname:UNIQUE or rack:MAX_PER:2`)
  }
  const second = trimmed.indexOf(':', first + 1)
  const field = trimmed.slice(0, first).trim()
  const op = (second < 0 ? trimmed.slice(first + 1) : trimmed.slice(first + 1, second)).trim()
  const value = second < 0 ? undefined : trimmed.slice(second + 1)
  const operator = op.toUpperCase() as ConstraintOperator
  const constraint: Constraint = value === undefined || value === '' ? {field, operator} : {field, operator, value}
  return validateConstraint(constraint, flag)
}

/**
 * Checks a constraint from any source (flag, own spec, Marathon JSON) and returns it in
 * canonical form (`@hostname` -> `hostname`, operator upper-cased, empty value dropped).
 * `where` names the origin in messages, e.g. `--constraint` or `job web: constraints[1]`.
 */
export function validateConstraint(c: Constraint, where = '--constraint'): Constraint {
  const field = c.field.trim() === '@hostname' ? HOSTNAME_FIELD : c.field.trim()
  const operator = String(c.operator).toUpperCase() as ConstraintOperator
  const value = c.value === undefined || c.value === '' ? undefined : c.value
  const shown = `${where} ${value === undefined ? `${c.field}:${String(c.operator)}` : `${c.field}:${String(c.operator)}:${value}`}`
  if (field === '' || /\s/.test(field)) {
    throw new UserError(`${shown}: the field must be hostname or a node label name without spaces, e.g. hostname:UNIQUE or rack:MAX_PER:2`)
  }
  if (!CONSTRAINT_OPERATORS.includes(operator)) {
    throw new UserError(
      `${shown}: unknown operator ${String(c.operator)}; use one of ${CONSTRAINT_OPERATORS.join(', ')}, e.g. ${field}:MAX_PER:2`,
    )
  }
  const example = `${field}:${EXAMPLES[operator]}`
  switch (operator) {
    case 'UNIQUE':
      if (value !== undefined) throw new UserError(`${shown} takes no value: ${field}:UNIQUE`)
      break
    case 'CLUSTER':
      break
    case 'GROUP_BY':
      if (value !== undefined && !isWholeNumber(value)) {
        throw new UserError(`${shown} needs a whole number of groups of at least 1, or none: ${field}:GROUP_BY or ${example}`)
      }
      break
    case 'MAX_PER':
      if (value === undefined) throw new UserError(`${shown} needs a value: ${example}`)
      if (!isWholeNumber(value)) throw new UserError(`${shown} needs a whole number of at least 1: ${example}`)
      break
    case 'LIKE':
    case 'UNLIKE': {
      if (value === undefined) throw new UserError(`${shown} needs a regular expression: ${example}`)
      const problem = regexProblem(value)
      if (problem !== undefined) {
        throw new UserError(`${shown} has an invalid regular expression (${problem}): fix the pattern, e.g. ${example}`)
      }
      break
    }
    case 'IS':
      if (value === undefined) throw new UserError(`${shown} needs a value: ${example}`)
      break
  }
  return value === undefined ? {field, operator} : {field, operator, value}
}

function isWholeNumber(text: string): boolean {
  return /^\s*\d+\s*$/.test(text) && Number(text) >= 1 && Number.isSafeInteger(Number(text))
}

function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern)
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error)
  }
}

/** Marathon's LIKE/UNLIKE match the whole value (Java's String.matches). */
export function fullMatchRegex(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`)
}

/** Parses `--prefer zone=a` (optionally `zone=a:3` for a weight of 3). */
export function parsePreference(text: string, flag = '--prefer'): Preference {
  const m = /^\s*([^=\s]+)\s*=\s*(.*?)\s*$/.exec(text)
  if (!m || m[2] === '') throw new UserError(`${flag} ${JSON.stringify(text)}: expected LABEL=VALUE, e.g. ${flag} zone=eu-1`)
  const field = m[1] === '@hostname' ? HOSTNAME_FIELD : m[1]!
  let value = m[2]!
  const w = /^(.*):(\d+)$/.exec(value)
  if (w && w[1] !== '') {
    value = w[1]!
    return validatePreference({field, value, weight: Number(w[2])}, flag)
  }
  return validatePreference({field, value}, flag)
}

export function validatePreference(p: Preference, where = '--prefer'): Preference {
  if (p.field === '' || /\s/.test(p.field)) throw new UserError(`${where} ${p.field}=${p.value}: the label name must not be empty or contain spaces, e.g. zone=eu-1`)
  if (p.weight !== undefined && !(Number.isInteger(p.weight) && p.weight >= 1 && p.weight <= 100)) {
    throw new UserError(`${where} ${p.field}=${p.value}: the weight must be a whole number from 1 to 100, e.g. ${p.field}=${p.value}:3`)
  }
  return p
}

export const DEFAULT_PORT_RANGE: Readonly<PortRange> = Object.freeze({from: 31000, to: 32000})

/** Parses `31000-32000` (both ends inclusive). */
export function parsePortRange(text: string, flag = '--port-range'): PortRange {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text)
  if (!m) throw new UserError(`${flag} ${JSON.stringify(text)}: expected FROM-TO, e.g. ${flag} 31000-32000`)
  return validatePortRange({from: Number(m[1]), to: Number(m[2])}, flag)
}

export function validatePortRange(range: PortRange, where = '--port-range'): PortRange {
  const ok = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535
  if (!ok(range.from) || !ok(range.to) || range.from > range.to) {
    throw new UserError(`${where} ${range.from}-${range.to}: expected FROM-TO with 1 <= FROM <= TO <= 65535, e.g. 31000-32000`)
  }
  return range
}

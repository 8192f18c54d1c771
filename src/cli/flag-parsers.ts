/** Flag parsers shared by commands: they turn text into model values or throw UserError. */
import {UserError} from '../core/errors.js'
import {parseDurationMs} from '../core/spec/validate.js'

export function parseLabels(values: readonly string[] | undefined, flag = '--label'): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const value of values ?? []) {
    const eq = value.indexOf('=')
    if (eq <= 0) throw new UserError(`${flag} expects key=value, got ${JSON.stringify(value)} (e.g. ${flag} zone=eu-1).`)
    labels[value.slice(0, eq).trim()] = value.slice(eq + 1).trim()
  }

  return labels
}

/** A duration's milliseconds (`10s`, `500ms`, `2m`, `1h`, or a number of seconds), or null when `text` is not one. */
export function parseDuration(text: string): number | null {
  try {
    return parseDurationMs(text, 'value')
  } catch {
    return null
  }
}

/**
 * A duration flag's value in ms. Not a duration: `FLAG expects a duration like EXAMPLES,
 * got "TEXT".`; below `minMs`: `FLAG must be at least MINms.` (UserError, exit 2).
 */
export function durationFlag(flag: string, text: string, examples: string, minMs?: number): number {
  const ms = parseDuration(text)
  if (ms === null) throw new UserError(`${flag} expects a duration like ${examples}, got ${JSON.stringify(text)}.`)
  if (minMs !== undefined && ms < minMs) throw new UserError(`${flag} must be at least ${minMs}ms.`)
  return ms
}

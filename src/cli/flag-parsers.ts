/** Flag parsers shared by commands: they turn text into model values or throw UserError. */
import {UserError} from '../core/errors.js'

export function parseLabels(values: readonly string[] | undefined, flag = '--label'): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const value of values ?? []) {
    const eq = value.indexOf('=')
    if (eq <= 0) throw new UserError(`${flag} expects key=value, got ${JSON.stringify(value)} (e.g. ${flag} zone=eu-1).`)
    labels[value.slice(0, eq).trim()] = value.slice(eq + 1).trim()
  }

  return labels
}

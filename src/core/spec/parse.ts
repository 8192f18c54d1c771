/** Reading spec files: YAML or JSON, one or many documents, into validated JobSpecs. */
import {parseAllDocuments} from 'yaml'

import {UserError} from '../errors.js'
import type {JobSpec} from '../model/job.js'
import {chronosToSpec, type ChronosOptions} from './chronos.js'
import {detectFormat, documentItems, isMarathonApp, mixedFormats} from './format.js'
import {marathonApps, marathonToSpec} from './marathon.js'
import {jsonSyntaxError} from './json-syntax.js'
import {validateJobSpec} from './validate.js'

/**
 * Parses every document of a YAML or JSON text (YAML is a superset of JSON).
 * A document may be one job, or `{jobs: [...]}`, or a list of jobs. A source
 * named *.json must be valid JSON (its errors are JSON errors, with line and
 * column). A leading byte order mark is ignored. Nothing is returned unless
 * every document is valid.
 */
export interface ParseOptions extends ChronosOptions {
  /** Warnings (a Chronos field that is not supported), one per field. */
  warn?: (message: string) => void
}

export function parseSpecText(text: string, source: string, options: ParseOptions = {}): JobSpec[] {
  const warned = new Map<string, {message: string; jobs: string[]}>()
  const marathonWarnings = new Set<string>()
  const marathonServicePorts = new Map<number, string>()
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text
  if (/\.json$/i.test(source)) {
    const e = jsonSyntaxError(body)
    if (e) throw new UserError(`${source}:${e.line}:${e.column}: not valid JSON: ${e.message}.`, {code: 'invalid-spec'})
  }

  const docs = parseAllDocuments(body, {prettyErrors: true, uniqueKeys: true})
  const raws: Array<{value: unknown; where: string}> = []
  const documents = Array.isArray(docs) ? docs : [docs]
  for (const [i, doc] of documents.entries()) {
    const where = documents.length > 1 ? `${source} (document ${i + 1})` : source
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!
      const line = e.linePos?.[0]
      throw new UserError(`${source}${line ? `:${line.line}:${line.col}` : ''}: not valid YAML or JSON: ${e.message.split('\n')[0]}`, {code: 'invalid-spec'})
    }

    const value = doc.toJS({maxAliasCount: 100}) as unknown
    if (value === null || value === undefined) continue
    const format = detectFormat(value)
    if (format === 'marathon') {
      // Marathon: one app, a list of apps, {app}, or a group with nested groups; warnings by path
      const apps = marathonApps(value, (path, message) => marathonWarnings.add(`${where}: ${path}: ${message}`))
      if (Array.isArray(value) && value.some((v) => !isMarathonApp(v))) throw mixedFormats(where)
      for (const a of apps) raws.push({value: marathonToSpec(a, where, options, (path, message) => marathonWarnings.add(`${where}: ${path}: ${message}`), marathonServicePorts), where: a.path ? `${where} ${a.path}` : where})
      continue
    }

    const {items, listed} = documentItems(value)
    items.forEach((v, j) => {
      const at = listed === 'list' ? `${where} [${j}]` : listed === 'jobs' ? `${where} jobs[${j}]` : where
      if (format !== 'chronos' || v === null || typeof v !== 'object' || Array.isArray(v)) return raws.push({value: v, where: at})
      const job = v as Record<string, unknown>
      const warn = (field: string, message: string): void => {
        const w = warned.get(field) ?? {message, jobs: []}
        w.jobs.push(String(job.name ?? at))
        warned.set(field, w)
      }

      return raws.push({value: chronosToSpec(job, at, options, warn), where: at})
    })
  }

  if (raws.length === 0) throw new UserError(`${source} holds no job spec.`, {code: 'invalid-spec'})
  const specs = raws.map((r) => validateJobSpec(r.value, r.where, options.warn ? {warn: options.warn} : {}))
  for (const message of marathonWarnings) options.warn?.(`${message}.`)
  for (const {message, jobs} of warned.values()) options.warn?.(`${source}: ${message} (${jobs.length === 1 ? `job ${jobs[0]}` : `${jobs.length} jobs: ${jobs.slice(0, 5).join(', ')}${jobs.length > 5 ? ', ...' : ''}`}).`)
  const names = new Set<string>()
  for (const spec of specs) {
    if (names.has(spec.name)) throw new UserError(`${source} defines job ${spec.name} twice.`, {code: 'invalid-spec'})
    names.add(spec.name)
  }

  return specs
}

/** Reading spec files: YAML or JSON, one or many documents, into validated JobSpecs. */
import {parseAllDocuments} from 'yaml'

import {UserError} from '../errors.js'
import type {JobSpec} from '../model/job.js'
import {validateJobSpec} from './validate.js'

/**
 * Parses every document of a YAML or JSON text (YAML is a superset of JSON).
 * A document may be one job, or `{jobs: [...]}`, or a list of jobs. Nothing is
 * returned unless every document is valid.
 */
export function parseSpecText(text: string, source: string): JobSpec[] {
  const docs = parseAllDocuments(text, {prettyErrors: true, uniqueKeys: true})
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
    if (Array.isArray(value)) value.forEach((v, j) => raws.push({value: v, where: `${where} [${j}]`}))
    else if (typeof value === 'object' && Array.isArray((value as {jobs?: unknown}).jobs)) {
      ;((value as {jobs: unknown[]}).jobs).forEach((v, j) => raws.push({value: v, where: `${where} jobs[${j}]`}))
    } else if (typeof value === 'object' && ('apps' in value || ('id' in value && ('cmd' in value || 'container' in value)))) {
      throw new UserError(`${where} looks like a Marathon app or group; this version reads only clusterctl's own format (docs/spec.md).`, {code: 'invalid-spec'})
    } else raws.push({value, where})
  }

  if (raws.length === 0) throw new UserError(`${source} holds no job spec.`, {code: 'invalid-spec'})
  const specs = raws.map((r) => validateJobSpec(r.value, r.where))
  const names = new Set<string>()
  for (const spec of specs) {
    if (names.has(spec.name)) throw new UserError(`${source} defines job ${spec.name} twice.`, {code: 'invalid-spec'})
    names.add(spec.name)
  }

  return specs
}

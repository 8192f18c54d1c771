/**
 * Which format a spec document is written in: clusterctl's own, Marathon's or
 * Chronos's. The one place that tells them apart; parse.ts asks it for every
 * document; Chronos jobs go to their import (chronos.ts), Marathon apps and groups to
 * theirs (marathon.ts).
 */
import {UserError} from '../errors.js'

export type SpecFormat = 'clusterctl' | 'marathon' | 'chronos'

/** Fields only a Chronos job has (clusterctl's own format has none of them). */
const CHRONOS_FIELDS = [
  'epsilon', 'owner', 'ownerName', 'async', 'parents', 'environmentVariables', 'scheduleTimeZone', 'shell', 'executor',
  'executorFlags', 'softError', 'highPriority', 'dataProcessingJobType', 'uris', 'fetch', 'runAsUser', 'disabled',
  'successCount', 'errorCount', 'lastSuccess', 'lastError', 'errorsSinceLastSuccess',
]

/** ISO 8601 repeating interval, Chronos's schedule: R[n]/START/PERIOD. */
const ISO_REPEATING = /^R\d*\//

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * A Chronos job: a name and a command or container, no top-level image (Chronos
 * keeps it in container.image), and a Chronos schedule, parents or Chronos-only fields.
 */
export function isChronosJob(value: unknown): boolean {
  if (!isObject(value) || 'image' in value || !('name' in value) || !('command' in value || 'container' in value)) return false
  return (typeof value.schedule === 'string' && ISO_REPEATING.test(value.schedule)) || CHRONOS_FIELDS.some((f) => f in value)
}

/** A Marathon app (`id` with `cmd`, `args` or `container`; or `{app: ...}` as the API returns it) or group (`apps`, `groups`). */
export function isMarathonApp(value: unknown): boolean {
  if (!isObject(value)) return false
  if ('apps' in value || 'groups' in value || (isObject(value.app) && 'id' in value.app)) return true
  return 'id' in value && ('cmd' in value || 'args' in value || 'container' in value)
}

function formatOfOne(value: unknown): SpecFormat {
  if (isChronosJob(value)) return 'chronos'
  if (isMarathonApp(value)) return 'marathon'
  return 'clusterctl'
}

/** The items of a document: the document itself, a list of jobs, or `{jobs: [...]}`. */
export function documentItems(value: unknown): {items: unknown[]; listed: 'list' | 'jobs' | null} {
  if (Array.isArray(value)) return {items: value, listed: 'list'}
  if (isObject(value) && Array.isArray(value.jobs)) return {items: value.jobs, listed: 'jobs'}
  return {items: [value], listed: null}
}

/** The format of one document (a job, a list of jobs, `{jobs: [...]}` or a Marathon group). */
export function detectFormat(value: unknown): SpecFormat {
  for (const item of documentItems(value).items) {
    const format = formatOfOne(item)
    if (format !== 'clusterctl') return format
  }

  return 'clusterctl'
}

/** A document that mixes formats (a Marathon app beside clusterctl jobs): refused in one sentence. */
export function mixedFormats(where: string): UserError {
  return new UserError(`${where} mixes Marathon apps with other jobs; put each format in its own file or document.`, {code: 'invalid-spec'})
}

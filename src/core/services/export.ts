/** `clusterctl export`: the stored specs of some or all jobs, translated (core/export). */
import {NotFoundError} from '../errors.js'
import {exportJobs, type ExportOptions, type ExportResult, type ExportTarget} from '../export/translate.js'
import {listJobs} from '../state/jobs.js'
import type {ServiceContext} from '../context.js'

export function exportStoredJobs(ctx: Pick<ServiceContext, 'store'>, names: readonly string[], target: ExportTarget, options: ExportOptions = {}): ExportResult {
  const jobs = listJobs(ctx.store)
  const missing = names.filter((n) => !jobs.some((j) => j.name === n))
  if (missing.length > 0) throw new NotFoundError(`No job named ${missing.join(', ')}.`, {hint: 'Run `clusterctl jobs` to list the jobs.'})
  const chosen = names.length === 0 ? jobs : jobs.filter((j) => names.includes(j.name))
  return exportJobs(chosen.map((j) => j.spec), target, options)
}

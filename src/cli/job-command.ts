/** What the job commands share: node host lookup for endpoints, and exit codes from a pass. */
import {ExitCode} from '../core/errors.js'
import {publicHostOf} from '../core/model/node.js'
import type {PassReport} from '../core/reconcile/report.js'
import type {ServiceContext} from '../core/context.js'
import {getNodes} from '../core/services/nodes.js'
import type {NodeHosts} from '../ui/presenters/jobs.js'

export function nodeHosts(ctx: Pick<ServiceContext, 'store'>): NodeHosts {
  return new Map(getNodes(ctx).map((n) => [n.name, publicHostOf(n)]))
}

/**
 * 1 when an action failed, 4 when work stays pending, else 0. With `jobs`, only
 * those jobs count: `scale web 3` does not fail because another job is pending.
 */
export function exitCodeOfPass(pass: PassReport | null, jobs?: readonly string[]): number {
  if (!pass) return ExitCode.ok
  const mine = (job: string): boolean => jobs === undefined || jobs.includes(job)
  if (pass.actions.some((a) => !a.ok && mine(a.job))) return ExitCode.failed
  if (pass.pending.some((p) => mine(p.job))) return ExitCode.unsatisfied
  return ExitCode.ok
}

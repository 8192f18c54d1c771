/** What the job commands share: where tasks and services are reached, exit codes from a pass, and how long to wait for it. */
import {Flags} from '@oclif/core'

import {ExitCode} from '../core/errors.js'
import {serviceAddresses} from '../core/edge/injected.js'
import {publicHostOf} from '../core/model/node.js'
import type {PassReport} from '../core/reconcile/report.js'
import type {ServiceContext} from '../core/context.js'
import type {JobRefs} from '../core/services/jobs.js'
import {getNodes} from '../core/services/nodes.js'
import {durationFlag} from './flag-parsers.js'
import {listJobs} from '../core/state/jobs.js'
import type {Addresses} from '../ui/presenters/jobs.js'

/** Each node's host (where published ports are reached) and each service's stable address, from the state file. */
export function addressesOf(ctx: Pick<ServiceContext, 'store'>): Addresses {
  const nodes = getNodes(ctx)
  return {hosts: new Map(nodes.map((n) => [n.name, publicHostOf(n)])), services: serviceAddresses(ctx.store.read(() => listJobs(ctx.store)), nodes)}
}

/**
 * 1 when an action failed, 4 when work stays pending, else 0. With `jobs`, only
 * those jobs count: `scale web 3` does not fail because another job is pending.
 */
export function exitCodeOfPass(pass: PassReport | null, jobs?: readonly string[]): number {
  if (!pass) return ExitCode.ok
  const mine = (job: string): boolean => jobs === undefined || jobs.includes(job)
  if (pass.actions.some((a) => !a.ok && mine(a.job))) return ExitCode.failed
  if (pass.pending.some((p) => mine(p.job)) || (pass.waiting ?? []).some((w) => mine(w.job))) return ExitCode.unsatisfied
  return ExitCode.ok
}

/** --timeout of the commands that change jobs and converge (run, apply, scale, restart, stop, rm). */
export const waitFlags = {
  timeout: Flags.string({
    description: 'How long to wait for the pass that applies the change: while a daemon runs, its first pass after the change (the command then reports and exits by that pass); otherwise the controller lease another command holds. Exit 1 when it does not come in time (the change stays recorded).',
    default: '60s',
  }),
}

export function waitMsOf(value: string): number {
  return durationFlag('--timeout', value, '60s, 500ms or 5m', 1)
}

/** The jobs a command names: its arguments, and a --selector LABEL=VALUE. */
export function jobNamesOf(argv: readonly unknown[], selector: string | undefined): JobRefs {
  return {names: argv.map(String), ...(selector === undefined ? {} : {selector})}
}

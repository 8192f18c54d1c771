/** `clusterctl run` flags build the same raw document as a spec file, and go through the same validation. */
import {UserError} from '../errors.js'
import type {JobSpec} from '../model/job.js'
import {validateJobSpec} from './validate.js'
import {parseNfsFlag} from './volumes.js'

export interface RunFlags {
  name: string
  command: string[]
  image: string
  cpus?: string
  mem?: string
  disk?: string
  gpus?: number
  instances?: number
  publish?: string[]
  env?: string[]
  volume?: string[]
  nfs?: string[]
  constraint?: string[]
  prefer?: string[]
  strategy?: string
  'health-http'?: string
  'health-tcp'?: string
  'health-cmd'?: string
  restart?: string
  kind?: string
  runtime?: string
  label?: string[]
  schedule?: string
  timezone?: string
  after?: string[]
  retries?: number
  deadline?: string
  concurrency?: string
  init?: boolean
  team?: string
  priority?: number
  preemption?: string
  'service-port'?: number
  uses?: string[]
  'drain-timeout'?: string
  network?: string
}

function pairs(values: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!values) return undefined
  const out: Record<string, string> = {}
  for (const v of values) {
    const eq = v.indexOf('=')
    if (eq <= 0) throw new UserError(`${flag} expects K=V, got ${JSON.stringify(v)} (e.g. ${flag} LOG_LEVEL=debug).`)
    out[v.slice(0, eq)] = v.slice(eq + 1)
  }

  return out
}

export function parseSpecFlags(f: RunFlags): JobSpec {
  const health = [f['health-http'], f['health-tcp'], f['health-cmd']].filter((h) => h !== undefined)
  if (health.length > 1) throw new UserError('Give one of --health-http, --health-tcp and --health-cmd, not several.')
  const raw: Record<string, unknown> = {
    name: f.name,
    ...(f.kind === undefined ? {} : {kind: f.kind}),
    image: f.image,
    ...(f.command.length > 0 ? {command: f.command} : {}),
    ...(f.cpus === undefined ? {} : {cpus: f.cpus}),
    ...(f.mem === undefined ? {} : {mem: f.mem}),
    ...(f.disk === undefined ? {} : {disk: f.disk}),
    ...(f.gpus === undefined ? {} : {gpus: f.gpus}),
    ...(f.instances === undefined ? {} : {instances: f.instances}),
    ...(f.publish ? {ports: f.publish} : {}),
    ...(f.env ? {env: pairs(f.env, '-e')} : {}),
    ...(f.label ? {labels: pairs(f.label, '--label')} : {}),
    ...(f.volume || f.nfs ? {volumes: [...(f.volume ?? []), ...(f.nfs ?? []).map((n) => parseNfsFlag(n))]} : {}),
    ...(f.constraint ? {constraints: f.constraint} : {}),
    ...(f.prefer ? {preferences: f.prefer} : {}),
    ...(f.strategy ? {strategy: f.strategy} : {}),
    ...(f.restart ? {restart: f.restart} : {}),
    ...(f.runtime ? {runtime: f.runtime} : {}),
    ...(f.schedule === undefined ? {} : {schedule: f.schedule}),
    ...(f.timezone === undefined ? {} : {timezone: f.timezone}),
    ...(f.after === undefined ? {} : {after: f.after}),
    ...(f.retries === undefined ? {} : {retries: f.retries}),
    ...(f.deadline === undefined ? {} : {deadline: f.deadline}),
    ...(f.concurrency === undefined ? {} : {concurrency: f.concurrency}),
    ...(f.init === false ? {init: false} : {}),
    ...(f.team === undefined ? {} : {team: f.team}),
    ...(f.priority === undefined ? {} : {priority: f.priority}),
    ...(f.preemption === undefined ? {} : {preemption: f.preemption}),
    ...(f['service-port'] === undefined ? {} : {servicePort: f['service-port']}),
    ...(f.uses === undefined ? {} : {uses: f.uses}),
    ...(f['drain-timeout'] === undefined ? {} : {drainTimeout: f['drain-timeout']}),
    ...(f.network === undefined ? {} : {network: f.network}),
    ...(f['health-http'] ? {healthCheck: {http: f['health-http']}} : {}),
    ...(f['health-tcp'] ? {healthCheck: {tcp: f['health-tcp']}} : {}),
    ...(f['health-cmd'] ? {healthCheck: {cmd: f['health-cmd']}} : {}),
  }
  return validateJobSpec(raw, 'clusterctl run')
}

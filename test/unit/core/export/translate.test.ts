import fs from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {exportJobs} from '../../../../src/core/export/translate.js'
import type {JobSpec} from '../../../../src/core/model/job.js'
import {parseSpecText} from '../../../../src/core/spec/parse.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'

/*
 * Structural checks transcribed from the targets' published schemas (the Kubernetes
 * OpenAPI v1.30 definitions of the kinds exported, Nomad's api.Job): the required fields,
 * their types and the value formats. Offline, without the full schema files.
 */
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const QUANTITY = /^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/
type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

function kubeProblems(doc: Doc): string[] {
  const p: string[] = []
  const need = (cond: boolean, what: string) => cond || p.push(`${doc.kind as string}: ${what}`)
  need(typeof doc.apiVersion === 'string' && typeof doc.kind === 'string', 'apiVersion and kind')
  need(DNS1123.test(doc.metadata?.name ?? ''), 'metadata.name is a DNS-1123 name')
  const podSpec = (t: Doc, where: string) => {
    need(Array.isArray(t?.spec?.containers) && t.spec.containers.length > 0, `${where}: containers`)
    for (const c of t?.spec?.containers ?? []) {
      need(DNS1123.test(c.name) && typeof c.image === 'string', `${where}: container name and image`)
      for (const q of [...Object.values(c.resources?.requests ?? {}), ...Object.values(c.resources?.limits ?? {})]) need(QUANTITY.test(String(q)), `${where}: quantity ${String(q)}`)
      for (const port of c.ports ?? []) need(Number.isInteger(port.containerPort) && port.containerPort > 0 && port.containerPort < 65536 && ['TCP', 'UDP'].includes(port.protocol), `${where}: port`)
      for (const e of c.env ?? []) need(typeof e.name === 'string' && typeof e.value === 'string', `${where}: env`)
    }
  }

  const selects = (selector: Doc, labels: Doc, where: string) => need(Object.entries(selector?.matchLabels ?? {}).length > 0 && Object.entries(selector.matchLabels).every(([k, v]) => labels?.[k] === v), `${where}: the selector matches the template labels`)
  switch (`${doc.apiVersion as string} ${doc.kind as string}`) {
    case 'apps/v1 Deployment':
      need(Number.isInteger(doc.spec.replicas), 'replicas')
      selects(doc.spec.selector, doc.spec.template.metadata.labels, 'Deployment')
      podSpec(doc.spec.template, 'Deployment')
      break
    case 'policy/v1 PodDisruptionBudget':
      need(doc.spec.selector?.matchLabels !== undefined && (doc.spec.minAvailable !== undefined) !== (doc.spec.maxUnavailable !== undefined), 'selector and one of minAvailable, maxUnavailable')
      break
    case 'v1 Service':
      need(doc.spec.ports.every((x: Doc) => Number.isInteger(x.port)), 'ports')
      break
    case 'batch/v1 Job':
      need(['Never', 'OnFailure'].includes(doc.spec.template.spec.restartPolicy), 'restartPolicy Never or OnFailure')
      podSpec(doc.spec.template, 'Job')
      break
    case 'batch/v1 CronJob':
      need(typeof doc.spec.schedule === 'string' && ['Allow', 'Forbid', 'Replace'].includes(doc.spec.concurrencyPolicy), 'schedule and concurrencyPolicy')
      need(['Never', 'OnFailure'].includes(doc.spec.jobTemplate.spec.template.spec.restartPolicy), 'restartPolicy')
      podSpec(doc.spec.jobTemplate.spec.template, 'CronJob')
      break
    case 'scheduling.k8s.io/v1 PriorityClass':
      need(Number.isInteger(doc.value) && doc.value <= 1e9 && ['Never', 'PreemptLowerPriority'].includes(doc.preemptionPolicy), 'value and preemptionPolicy')
      break
    default:
      p.push(`unknown kind ${doc.apiVersion as string} ${doc.kind as string}`)
  }

  return p
}

function nomadProblems(doc: Doc): string[] {
  const p: string[] = []
  const need = (cond: boolean, what: string) => cond || p.push(what)
  const job = doc.Job
  need(typeof job?.ID === 'string' && ['service', 'batch', 'system', 'sysbatch'].includes(job.Type), 'Job.ID and Type')
  need(Number.isInteger(job.Priority) && job.Priority >= 1 && job.Priority <= 100, 'Priority 1..100')
  need(Array.isArray(job.Datacenters) && job.Datacenters.length > 0, 'Datacenters')
  for (const g of job.TaskGroups ?? []) {
    need(typeof g.Name === 'string' && Number.isInteger(g.Count), 'group Name and Count')
    const labels = new Set((g.Networks ?? []).flatMap((n: Doc) => n.DynamicPorts.map((d: Doc) => d.Label)))
    for (const t of g.Tasks) {
      need(typeof t.Driver === 'string' && typeof t.Config?.image === 'string', 'task Driver and image')
      need(Number.isInteger(t.Resources.CPU) && t.Resources.CPU > 0 && Number.isInteger(t.Resources.MemoryMB), 'Resources CPU (MHz) and MemoryMB')
      for (const l of t.Config.ports ?? []) need(labels.has(l), `port label ${String(l)} declared in the group network`)
      for (const s of t.Services ?? []) for (const c of s.Checks) need(Number.isInteger(c.Interval) && Number.isInteger(c.Timeout), 'check durations in ns')
    }

    for (const c of g.Constraints ?? []) need(typeof c.Operand === 'string', 'constraint Operand')
  }

  if (job.Periodic) need(job.Periodic.SpecType === 'cron' && Array.isArray(job.Periodic.Specs), 'Periodic cron specs')
  return p
}

const spec = (raw: Record<string, unknown>): JobSpec => validateJobSpec({image: 'localhost/app:1', ...raw}, 'test')

describe('core/export (Nomad and Kubernetes)', () => {
  const web = spec({name: 'web', instances: 3, cpus: 0.5, mem: '256Mi', ports: [8080], constraints: ['hostname:UNIQUE', 'zone:LIKE:eu-.*'], preferences: ['disk=ssd:10'], healthCheck: {http: '8080/healthz'}, team: 'shop', priority: 70, upgrade: {minimumHealthCapacity: 0.5}, env: {A: '1'}, volumes: ['/srv/www:/www:ro']})
  const nightly = spec({name: 'nightly', schedule: '30 2 * * *', timezone: 'Europe/Berlin', deadline: '1h', retries: 3, command: ['/etl', 'run']})
  const publish = spec({name: 'publish', after: ['nightly'], gpus: 1})

  it('Kubernetes: a service is a Deployment, PDB, Service and PriorityClass; scheduled jobs CronJobs, dependent ones Jobs; all well-formed', () => {
    const out = exportJobs([web, nightly, publish], 'kubernetes')
    const kinds = out.jobs.map((j) => j.documents.map((d) => d.kind))
    expect(kinds).to.deep.equal([['PriorityClass', 'Deployment', 'PodDisruptionBudget', 'Service'], ['PriorityClass', 'CronJob'], ['PriorityClass', 'Job']])
    for (const d of out.jobs.flatMap((j) => j.documents)) expect(kubeProblems(d), JSON.stringify(d)).to.deep.equal([])
    const deployment = out.jobs[0]!.documents[1] as Doc
    expect(deployment.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).to.equal('kubernetes.io/hostname')
    expect(deployment.spec.template.spec.containers[0].livenessProbe.httpGet).to.deep.equal({path: '/healthz', port: 8080})
    expect((out.jobs[1]!.documents[1] as Doc).spec).to.deep.include({schedule: '30 2 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid'})
    expect((out.jobs[0]!.documents[2] as Doc).spec.maxUnavailable).to.equal(1) // Marathon's minimumHealthCapacity 0.5 of 3: 1 may be down
    expect(deployment.spec.strategy.rollingUpdate).to.deep.equal({maxUnavailable: 1, maxSurge: 3})
  })

  it('Nomad: job JSON in the API shape, podman driver, cpu in MHz, periodic for cron schedules; all well-formed', () => {
    const out = exportJobs([web, nightly, publish], 'nomad', {mhzPerCpu: 2400})
    for (const j of out.jobs) expect(nomadProblems(j.documents[0] as Doc), JSON.stringify(j.documents[0])).to.deep.equal([])
    const job = (out.jobs[0]!.documents[0] as Doc).Job
    expect(job.TaskGroups[0].Tasks[0]).to.deep.include({Driver: 'podman'})
    expect(job.TaskGroups[0].Tasks[0].Resources.CPU).to.equal(1200)
    expect(job.TaskGroups[0].Constraints).to.deep.include({Operand: 'distinct_hosts', RTarget: 'true'})
    expect((out.jobs[1]!.documents[0] as Doc).Job.Periodic).to.deep.include({Specs: ['30 2 * * *'], TimeZone: 'Europe/Berlin', ProhibitOverlap: true})
    expect(out.notes.find((n) => n.job === 'web' && n.field === 'cpus')?.why).to.match(/2400 MHz per cpu/)
  })

  it('the report names what has no equivalent: LIKE/UNLIKE regexes, dependency graphs, DRF teams', () => {
    for (const target of ['nomad', 'kubernetes'] as const) {
      const dropped = exportJobs([web, nightly, publish], target).notes.filter((n) => n.status === 'dropped').map((n) => `${n.job} ${n.field}`)
      expect(dropped, target).to.include.members(['web constraint zone:LIKE:eu-.*', 'web team', 'publish after'])
    }
  })

  it('real Chronos jobs, imported first, export to both targets well-formed (ISO intervals reported dropped)', () => {
    const dir = path.join(process.cwd(), 'test', 'fixtures', 'chronos')
    const specs = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).flatMap((f) => parseSpecText(fs.readFileSync(path.join(dir, f), 'utf8'), f, {defaultImage: 'localhost/tools:1', warn: () => {}}))
    expect(specs.length).to.be.greaterThan(0)
    const k8s = exportJobs(specs, 'kubernetes')
    for (const d of k8s.jobs.flatMap((j) => j.documents)) expect(kubeProblems(d), JSON.stringify(d)).to.deep.equal([])
    const nomad = exportJobs(specs, 'nomad')
    for (const j of nomad.jobs) expect(nomadProblems(j.documents[0] as Doc)).to.deep.equal([])
    expect(nomad.notes.some((n) => n.field === 'schedule' && n.status === 'dropped')).to.equal(true)
  })
})

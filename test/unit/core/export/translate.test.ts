import fs from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'
import fc from 'fast-check'

import {exportJobs} from '../../../../src/core/export/translate.js'
import type {JobSpec} from '../../../../src/core/model/job.js'
import {parseSpecText} from '../../../../src/core/spec/parse.js'
import {validateJobSpec} from '../../../../src/core/spec/validate.js'
import {kubeProblems, nomadProblems} from './schemas.js'

type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const spec = (raw: Record<string, unknown>): JobSpec => validateJobSpec({image: 'localhost/app:1', ...raw}, 'test')

describe('core/export (Nomad and Kubernetes)', () => {
  const web = spec({name: 'web', instances: 3, cpus: 0.5, mem: '256Mi', ports: [8080], constraints: ['hostname:UNIQUE', 'zone:LIKE:eu-.*'], preferences: ['disk=ssd:10'], healthCheck: {http: '8080/healthz'}, team: 'shop', priority: 70, servicePort: 8443, upgrade: {minimumHealthCapacity: 0.5}, env: {A: '1'}, volumes: ['/srv/www:/www:ro']})
  const nightly = spec({name: 'nightly', schedule: '30 2 * * *', timezone: 'Europe/Berlin', deadline: '1h', retries: 3, command: ['/etl', 'run']})
  const publish = spec({name: 'publish', after: ['nightly'], gpus: 1})

  it('Kubernetes: a service is a Deployment, PDB, Service and PriorityClass; scheduled jobs CronJobs, dependent ones Jobs; all well-formed', () => {
    const out = exportJobs([web, nightly, publish], 'kubernetes')
    const kinds = out.jobs.map((j) => j.documents.map((d) => d.kind))
    expect(kinds).to.deep.equal([['PriorityClass', 'Deployment', 'PodDisruptionBudget', 'Service'], ['PriorityClass', 'CronJob'], ['PriorityClass', 'Job']])
    for (const d of out.jobs.flatMap((j) => j.documents)) expect(kubeProblems(d).join('\n'), JSON.stringify(d)).to.equal('')
    const deployment = out.jobs[0]!.documents[1] as Doc
    expect(deployment.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).to.equal('kubernetes.io/hostname')
    expect(deployment.spec.template.spec.containers[0].livenessProbe.httpGet).to.deep.equal({path: '/healthz', port: 8080})
    expect((out.jobs[1]!.documents[1] as Doc).spec).to.deep.include({schedule: '30 2 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid'})
    expect((out.jobs[0]!.documents[2] as Doc).spec.maxUnavailable).to.equal(1) // Marathon's minimumHealthCapacity 0.5 of 3: 1 may be down
    expect(deployment.spec.strategy.rollingUpdate).to.deep.equal({maxUnavailable: 1, maxSurge: 3})
  })

  it('Nomad: job JSON in the API shape, podman driver, cpu in MHz, periodic for cron schedules; all well-formed', () => {
    const out = exportJobs([web, nightly, publish], 'nomad', {mhzPerCpu: 2400})
    for (const j of out.jobs) expect(nomadProblems(j.documents[0] as Doc).join('\n'), JSON.stringify(j.documents[0])).to.equal('')
    const job = (out.jobs[0]!.documents[0] as Doc).Job
    expect(job.TaskGroups[0].Tasks[0]).to.deep.include({Driver: 'podman'})
    expect(job.TaskGroups[0].Tasks[0].Resources.CPU).to.equal(1200)
    expect(job.TaskGroups[0].Constraints).to.deep.include({Operand: 'distinct_hosts', RTarget: 'true'})
    expect((out.jobs[1]!.documents[0] as Doc).Job.Periodic).to.deep.include({Specs: ['30 2 * * *'], TimeZone: 'Europe/Berlin', ProhibitOverlap: true})
    expect(out.notes.find((n) => n.job === 'web' && n.field === 'cpus')?.why).to.match(/2400 MHz per cpu/)
  })

  it('the report names what has no equivalent: LIKE/UNLIKE regexes, dependency graphs, start order, DRF teams', () => {
    for (const target of ['nomad', 'kubernetes'] as const) {
      const front = spec({name: 'front', image: 'localhost/front:1', dependsOn: ['web'], network: 'shop'})
      const dropped = exportJobs([web, nightly, publish, front], target).notes.filter((n) => n.status === 'dropped').map((n) => `${n.job} ${n.field}`)
      expect(dropped, target).to.include.members(['web constraint zone:LIKE:eu-.*', 'web team', 'publish after', 'web servicePort', 'front dependsOn', 'front network'])
    }
  })

  it('the schema checks reject what the targets reject: a misspelled or invented field, a wrong type, a bad quantity', () => {
    const job = structuredClone(exportJobs([web], 'nomad').jobs[0]!.documents[0]) as Doc
    expect(nomadProblems(job)).to.deep.equal([])
    job.Job.TaskGroups[0].Update.MinHealthyTimeMs = 1
    job.Job.TaskGroups[0].Count = '3'
    job.Job.TaskGroups[0].Tasks[0].Resources.CPU = 0.5
    job.Job.TaskGroups[0].Tasks[0].Config.ports.push('nope')
    expect(nomadProblems(job)).to.deep.equal([
      '.Job.TaskGroups[0].Count: must be integer, got "3"',
      '.Job.TaskGroups[0].Tasks[0].Resources.CPU: must be integer, got 0.5',
      '.Job.TaskGroups[0].Update.MinHealthyTimeMs: not a field of the Nomad API',
      'group web: port label nope is declared in the group network',
    ])
    const [, deployment] = structuredClone(exportJobs([web], 'kubernetes').jobs[0]!.documents) as Doc[]
    deployment!.spec.minReadySeconds = 1.5
    deployment!.spec.template.spec.containers[0].resources.limits.memory = '256 MB'
    expect(kubeProblems(deployment!).join('\n')).to.match(/minReadySeconds must be integer/).and.match(/memory must match format "quantity"/)
  })

  it('real Marathon apps and Chronos jobs, imported first, export to both targets valid against the schemas (ISO intervals reported dropped)', () => {
    const specs = ['marathon', 'chronos'].flatMap((kind) => {
      const dir = path.join(process.cwd(), 'test', 'fixtures', kind)
      return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).flatMap((f) => {
        try {
          return parseSpecText(fs.readFileSync(path.join(dir, f), 'utf8'), f, {defaultImage: 'localhost/tools:1', warn: () => {}})
        } catch {
          return [] // the fixtures of import errors (trailing commas and the like)
        }
      })
    })
    expect(specs.filter((s) => s.kind === 'service').length).to.be.greaterThan(0)
    const k8s = exportJobs(specs, 'kubernetes')
    for (const d of k8s.jobs.flatMap((j) => j.documents)) expect(kubeProblems(d).join('\n'), JSON.stringify(d)).to.equal('')
    const nomad = exportJobs(specs, 'nomad')
    for (const j of nomad.jobs) expect(nomadProblems(j.documents[0] as Doc).join('\n'), JSON.stringify(j.documents[0])).to.equal('')
    expect(nomad.notes.some((n) => n.field === 'schedule' && n.status === 'dropped')).to.equal(true)
  })

  it('what the schemas found: port names that are not IANA service names, a progress deadline not past minReadySeconds, a probe on port 0', () => {
    const odd = spec({name: 'odd', ports: [{containerPort: 8080, name: 'HTTP API'}, {containerPort: 9090, name: 'metrics'}, {containerPort: 9091, name: 'metrics'}], upgrade: {minHealthyTime: '30s', progressDeadline: '5s'}})
    const dollar = spec({name: 'dollar', ports: [0], healthCheck: {http: '0/healthz'}})
    const out = exportJobs([odd, dollar], 'kubernetes')
    for (const d of out.jobs.flatMap((j) => j.documents)) expect(kubeProblems(d).join('\n'), JSON.stringify(d)).to.equal('')
    const deployment = out.jobs[0]!.documents[1] as Doc
    expect(deployment.spec.template.spec.containers[0].ports.map((p: Doc) => p.name)).to.deep.equal(['port0', 'metrics', 'port2'])
    expect(deployment.spec).to.deep.include({minReadySeconds: 30, progressDeadlineSeconds: 31})
    expect((out.jobs[1]!.documents[1] as Doc).spec.template.spec.containers[0].livenessProbe.httpGet.port).to.equal(8080)
    expect(out.notes.filter((n) => n.job === 'odd' && n.status === 'approximated').map((n) => n.field)).to.include.members(['ports.name', 'upgrade.progressDeadline'])
    const nomad = exportJobs([odd], 'nomad').jobs[0]!.documents[0] as Doc
    expect(nomadProblems(nomad).join('\n')).to.equal('')
    expect(nomad.Job.TaskGroups[0].Networks[0].DynamicPorts.map((p: Doc) => p.Label)).to.deep.equal(['port0', 'metrics', 'port2'])
  })

  it('Nomad\'s service provider: a cmd check is dropped (script checks need Consul), intervals and timeouts under 1s are raised to 1s', () => {
    const script = spec({name: 'script', healthCheck: {cmd: 'test -f /ready'}})
    const quick = spec({name: 'quick', ports: [8080], healthCheck: {tcp: 8080, interval: '500ms', timeout: '200ms'}})
    const out = exportJobs([script, quick], 'nomad')
    for (const j of out.jobs) expect(nomadProblems(j.documents[0] as Doc).join('\n'), JSON.stringify(j.documents[0])).to.equal('')
    const [s, q] = out.jobs.map((j) => (j.documents[0] as Doc).Job.TaskGroups[0].Tasks[0])
    expect(s.Services).to.equal(undefined)
    expect(out.notes).to.deep.include({job: 'script', field: 'healthCheck', status: 'dropped', why: 'Nomad\'s own service provider runs http and tcp checks only (a script check needs Consul)'})
    expect(q.Services[0].Checks[0]).to.deep.include({Type: 'tcp', PortLabel: 'port0', Interval: 1e9, Timeout: 1e9})
    expect(out.notes.find((n) => n.job === 'quick' && n.field === 'healthCheck')?.status).to.equal('approximated')
  })

  it('Nomad restart and update blocks Nomad accepts: a service restarts forever, retries fit the interval, deadlines in order, no auto-promote without canaries', () => {
    const svc = spec({name: 'svc', upgrade: {minHealthyTime: '6m', autoPromote: '1m'}})
    const flaky = spec({name: 'flaky', kind: 'batch', restart: {policy: 'on-failure', maxRetries: 1000}})
    const once = spec({name: 'once', kind: 'batch', restart: {policy: 'on-failure', maxRetries: 0}})
    const out = exportJobs([svc, flaky, once], 'nomad')
    for (const j of out.jobs) expect(nomadProblems(j.documents[0] as Doc).join('\n'), JSON.stringify(j.documents[0])).to.equal('')
    const [s, f, o] = out.jobs.map((j) => (j.documents[0] as Doc).Job.TaskGroups[0])
    expect(s.RestartPolicy).to.deep.equal({Attempts: 10, Mode: 'delay', Delay: 1e9, Interval: 600e9})
    expect(s.Update).to.deep.include({MinHealthyTime: 360e9, HealthyDeadline: 361e9, ProgressDeadline: 600e9, AutoPromote: false})
    expect(f.RestartPolicy).to.deep.equal({Attempts: 1000, Mode: 'fail', Delay: 1e9, Interval: 1000e9})
    expect(o.RestartPolicy).to.deep.include({Attempts: 0, Mode: 'fail'})
    expect(out.notes.filter((n) => n.job === 'svc' && ['upgrade.deadlines', 'upgrade.autoPromote'].includes(n.field)).map((n) => n.status)).to.deep.equal(['approximated', 'dropped'])
  })

  it('Kubernetes: container labels are pod labels when Kubernetes takes them, annotations when only the value is not a label value, else dropped', () => {
    const lb = spec({name: 'lb', labels: {tier: 'web', HAPROXY_0_BACKEND_HEAD: 'backend {backend}\n  balance roundrobin', 'app.kubernetes.io/name': 'other', 'bad key!': 'x'}})
    const out = exportJobs([lb], 'kubernetes')
    for (const d of out.jobs[0]!.documents) expect(kubeProblems(d).join('\n'), JSON.stringify(d)).to.equal('')
    const pod = (out.jobs[0]!.documents[1] as Doc).spec.template.metadata
    expect(pod.labels).to.deep.equal({'app.kubernetes.io/name': 'lb', 'app.kubernetes.io/managed-by': 'clusterctl-export', tier: 'web'})
    expect(pod.annotations).to.deep.equal({HAPROXY_0_BACKEND_HEAD: 'backend {backend}\n  balance roundrobin'})
    expect(out.notes.find((n) => n.field === 'labels' && n.status === 'dropped')?.why).to.match(/"app.kubernetes.io\/name", "bad key!"/)
  })

  it('Kubernetes names: a Service starts with a letter, a CronJob has at most 52 characters', () => {
    const long = `nightly-${'x'.repeat(50)}`
    const out = exportJobs([spec({name: '9web', ports: [8080]}), spec({name: long, schedule: '0 3 * * *'})], 'kubernetes')
    for (const d of out.jobs.flatMap((j) => j.documents)) expect(kubeProblems(d).join('\n'), JSON.stringify(d)).to.equal('')
    expect(out.jobs[0]!.documents.map((d) => (d as Doc).metadata.name)).to.deep.equal(['clusterctl-priority-50', '9web', '9web', 'j-9web'])
    const cron = (out.jobs[1]!.documents[1] as Doc).metadata.name as string
    expect(cron).to.have.length(52).and.match(/^nightly-x+-[0-9a-z]{6}$/)
    expect(out.notes.filter((n) => n.field === 'name').map((n) => n.status)).to.deep.equal(['approximated', 'approximated'])
  })

  it('property: every valid spec exports to documents the schemas accept, on both targets', () => {
    fc.assert(
      fc.property(arbSpec, (raw) => {
        let s: JobSpec
        try {
          s = validateJobSpec(raw, 'generated')
        } catch {
          return fc.pre(false)
        }

        for (const d of exportJobs([s], 'kubernetes').jobs[0]!.documents) expect(kubeProblems(d).join('\n'), JSON.stringify(d)).to.equal('')
        const nomad = exportJobs([s], 'nomad', {mhzPerCpu: 2400}).jobs[0]!.documents[0]!
        expect(nomadProblems(nomad).join('\n'), JSON.stringify(nomad)).to.equal('')
      }),
      {numRuns: 300},
    )
  })

})

const duration = fc.oneof(fc.integer({min: 0, max: 600}).map((n) => `${n}s`), fc.integer({min: 1, max: 5000}).map((n) => `${n}ms`), fc.integer({min: 1, max: 48}).map((n) => `${n}h`))
const count = fc.oneof(fc.integer({min: 0, max: 5}), fc.integer({min: 0, max: 100}).map((n) => `${n}%`))
/** Raw spec documents over the fields export translates; the invalid combinations are filtered by validateJobSpec. */
const arbSpec: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    name: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/), fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/)),
    image: fc.constant('localhost/app:1'),
    cpus: fc.integer({min: 1, max: 16_000}).map((m) => m / 1000),
    mem: fc.integer({min: 1, max: 65_536}).map((n) => `${n}Mi`),
    disk: fc.option(fc.integer({min: 1, max: 100}).map((n) => `${n}Gi`), {nil: undefined}),
    gpus: fc.option(fc.integer({min: 0, max: 4}), {nil: undefined}),
    instances: fc.integer({min: 0, max: 12}),
    ports: fc.uniqueArray(fc.record({containerPort: fc.oneof(fc.constant(0), fc.integer({min: 1, max: 65_535})), protocol: fc.constantFrom('tcp', 'udp'), name: fc.option(fc.oneof(fc.constantFrom('http', 'grpc-api', 'metrics'), fc.string({maxLength: 20})), {nil: undefined})}), {maxLength: 3, selector: (p) => `${p.containerPort}/${p.protocol}`}),
    constraints: fc.uniqueArray(fc.constantFrom('hostname:UNIQUE', 'zone:GROUP_BY', 'rack:MAX_PER:2', 'zone:IS:eu-1', 'zone:CLUSTER', 'zone:CLUSTER:a', 'zone:LIKE:eu-.*', 'zone:UNLIKE:x', 'rack:UNIQUE'), {maxLength: 3}),
    preferences: fc.uniqueArray(fc.tuple(fc.constantFrom('disk', 'zone'), fc.constantFrom('ssd', 'eu-1'), fc.integer({min: 1, max: 100})).map(([k, v, w]) => `${k}=${v}:${w}`), {maxLength: 2}),
    env: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), fc.string({maxLength: 8}), {maxKeys: 3}),
    labels: fc.dictionary(fc.oneof(fc.constantFrom('team', 'HAPROXY_0_VHOST', 'com.example/tier', 'app.kubernetes.io/name'), fc.string({maxLength: 70})), fc.oneof(fc.constantFrom('a', 'web.example.com', ''), fc.string({maxLength: 70})), {maxKeys: 3}),
    volumes: fc.array(fc.constantFrom('/srv/a:/a', '/srv/b:/b:ro'), {maxLength: 1}),
    priority: fc.option(fc.integer({min: 1, max: 100}), {nil: undefined}),
    preemption: fc.option(fc.constantFrom('never', 'allow'), {nil: undefined}),
    check: fc.option(fc.tuple(fc.constantFrom('http', 'tcp', 'cmd'), duration, duration, duration, fc.integer({min: 1, max: 10})), {nil: undefined}),
    upgrade: fc.option(fc.record({maxUnavailable: count, maxSurge: count, minHealthyTime: duration, healthyDeadline: duration, progressDeadline: duration, canary: fc.integer({min: 0, max: 3}), autoRollback: fc.boolean(), autoPromote: fc.option(duration, {nil: undefined})}, {requiredKeys: []}), {nil: undefined}),
    run: fc.option(fc.record({schedule: fc.constantFrom('30 2 * * *', '*/5 * * * *; 0 12 * * 1', 'R/2026-01-01T00:00:00Z/PT1H', 'R5/2026-01-01T00:00:00Z/P1D'), timezone: fc.constantFrom('UTC', 'Europe/Berlin'), deadline: duration, retries: fc.integer({min: 0, max: 5}), concurrency: fc.constantFrom('forbid', 'allow', 'replace'), catchUp: fc.constantFrom('last', 'none', 'all'), startingDeadline: duration, suspend: fc.boolean()}, {requiredKeys: ['schedule']}), {nil: undefined}),
    kind: fc.option(fc.constantFrom('service', 'batch'), {nil: undefined}),
    restart: fc.option(fc.record({policy: fc.constantFrom('always', 'on-failure', 'never'), maxRetries: fc.integer({min: 0, max: 2000})}), {nil: undefined}),
  })
  .map(({check, run, ports, ...raw}) => {
    const out: Record<string, unknown> = {...raw, ports: ports.map((p) => (p.name === undefined ? {containerPort: p.containerPort, protocol: p.protocol} : p)), ...run}
    if (check) {
      const [type, gracePeriod, interval, timeout, maxConsecutiveFailures] = check
      const port = ports[0]?.containerPort
      if (type === 'cmd' || port !== undefined) out.healthCheck = {[type]: type === 'cmd' ? 'test -f /ready' : type === 'http' ? `${port}/healthz` : port, gracePeriod, interval, timeout, maxConsecutiveFailures}
    }

    for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k]
    return out
  })

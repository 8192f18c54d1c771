/**
 * `clusterctl export` (docs/export.md): a pure translation of stored job specs to Nomad
 * job JSON (the shape `nomad job run -json` and the HTTP API take) or Kubernetes
 * manifests, with a report that names every field as translated, approximated (why) or
 * dropped (why). No I/O: the command writes the files.
 */
import {type JobSpec, rolloutBounds} from '../model/job.js'
import type {Constraint} from '../model/placement.js'
import {DEFAULT_PRIORITY, DEFAULT_TEAM} from '../model/team.js'
import {isNamed} from '../model/volume.js'
import {formatConstraint} from '../scheduler/constraints.js'

export type ExportTarget = 'nomad' | 'kubernetes'

export interface FieldNote {
  job: string
  field: string
  status: 'translated' | 'approximated' | 'dropped'
  why?: string
}

export interface ExportedJob {
  job: string
  /** Nomad: `{Job: {...}}`; Kubernetes: the manifests in apply order. */
  documents: Array<Record<string, unknown>>
}

export interface ExportResult {
  target: ExportTarget
  jobs: ExportedJob[]
  notes: FieldNote[]
}

export interface ExportOptions {
  /** Nomad: MHz per cpu (Nomad counts cpu in MHz). */
  mhzPerCpu?: number
  /** Nomad: the driver for jobs that do not pin a runtime (podman when the job ran on podman). */
  driver?: 'podman' | 'docker'
}

export const DEFAULT_MHZ_PER_CPU = 2000

class Notes {
  readonly list: FieldNote[] = []
  constructor(private readonly job: string) {}
  ok(field: string): void {
    this.list.push({job: this.job, field, status: 'translated'})
  }

  approx(field: string, why: string): void {
    this.list.push({job: this.job, field, status: 'approximated', why})
  }

  drop(field: string, why: string): void {
    this.list.push({job: this.job, field, status: 'dropped', why})
  }
}

export function exportJobs(specs: readonly JobSpec[], target: ExportTarget, options: ExportOptions = {}): ExportResult {
  const result: ExportResult = {target, jobs: [], notes: []}
  for (const spec of specs) {
    const notes = new Notes(spec.name)
    common(spec, notes)
    const documents = target === 'nomad' ? [toNomad(spec, notes, options)] : toKubernetes(spec, notes)
    result.jobs.push({job: spec.name, documents})
    result.notes.push(...notes.list)
  }

  return result
}

/** What both targets lack. */
function common(spec: JobSpec, notes: Notes): void {
  if (spec.team !== undefined && spec.team !== DEFAULT_TEAM) notes.drop('team', 'DRF teams have no equivalent (Nomad namespaces and Kubernetes ResourceQuotas are quotas, not fair shares)')
  if (spec.runPolicy?.after.length) notes.drop('after', 'dependency graphs have no equivalent (run the parents and children from a workflow engine)')
  if (spec.dependsOn?.length) notes.drop('dependsOn', `start order (after ${spec.dependsOn.join(', ')}) has no equivalent: both start at once (an init container or a readiness wait in the app does it there)`)
  if (spec.uses?.length) notes.approx('uses', `Kubernetes sets NAME_SERVICE_HOST and NAME_SERVICE_PORT for every Service of the namespace, at its cluster IP (NAME_SERVICE_HOSTS has no equivalent); Nomad renders addresses from Consul in a template block`)
  if (spec.strategy === 'spread') notes.approx('strategy', 'spread is a cluster-wide scheduler setting there, not per job')
  if (spec.init === false) notes.drop('init', 'both run the command as PID 1 unless the image has an init')
  if (spec.network !== undefined) notes.drop('network', `the network ${spec.network} (instances on one node resolving each other as JOB-INSTANCE and JOB) has no equivalent: use a Kubernetes headless Service, or Nomad's bridge networking with Consul service names`)
  if (spec.servicePort !== undefined) notes.drop('servicePort', `the edge service port ${spec.servicePort} has no equivalent: publish the service through a load balancer there (a Kubernetes Service of type LoadBalancer or an Ingress; Consul and a proxy with Nomad)`)
}

const mib = (bytes: number): number => Math.max(1, Math.round(bytes / 1024 ** 2))

/** Kubernetes' IANA_SVC_NAME, which port names must be (Nomad port labels take them as they are). */
const PORT_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** The ports' names on both targets: the spec's name when it is a unique IANA_SVC_NAME, else portN. */
function portNames(spec: JobSpec, notes: Notes): string[] {
  const used = new Set<string>()
  const names = spec.ports.map((p, i) => {
    let name = p.name !== null && PORT_NAME.test(p.name) && !used.has(p.name) ? p.name : `port${i}`
    for (let n = 1; used.has(name); n++) name = `port${i}-${n}`
    used.add(name)
    return name
  })
  const renamed = spec.ports.filter((p, i) => p.name !== null && p.name !== names[i]).map((p) => JSON.stringify(p.name))
  if (renamed.length) notes.approx('ports.name', `port names ${renamed.join(', ')} are not unique lower-case names of at most 15 characters (IANA service names); they become portN`)
  return names
}

/** The constraint field as a Nomad attribute. */
const nomadTarget = (field: string): string => (field === 'hostname' ? '${node.unique.name}' : `\${meta.${field}}`)

function toNomad(spec: JobSpec, notes: Notes, options: ExportOptions): Record<string, unknown> {
  const mhz = options.mhzPerCpu ?? DEFAULT_MHZ_PER_CPU
  const driver = spec.runtime === 'containerd' ? 'containerd-driver' : (options.driver ?? 'podman')
  if (spec.runtime === 'containerd') notes.approx('runtime', 'containerd jobs use the community containerd-driver plugin')
  const constraints: Array<Record<string, unknown>> = []
  const spreads: Array<Record<string, unknown>> = []
  for (const c of spec.constraints) nomadConstraint(c, constraints, spreads, notes)
  const affinities = spec.preferences.map((p) => ({LTarget: nomadTarget(p.field), RTarget: p.value, Operand: '=', Weight: Math.min(100, p.weight ?? 1)}))
  if (spec.preferences.length) notes.ok('preferences')
  notes.approx('cpus', `Nomad counts cpu in MHz: ${mhz} MHz per cpu (--mhz-per-cpu)`)
  notes.ok('mem')
  const names = portNames(spec, notes)
  const ports = spec.ports.map((p, i) => ({Label: names[i]!, To: p.containerPort === 0 ? -1 : p.containerPort}))
  if (spec.ports.length) notes.ok('ports')
  const config: Record<string, unknown> = {image: spec.image}
  if (spec.command) {
    config.command = spec.command[0]
    config.args = spec.command.slice(1)
    notes.ok('command')
  }

  if (ports.length) config.ports = ports.map((p) => p.Label)
  const hostVolumes = spec.volumes.filter((v) => !isNamed(v))
  if (hostVolumes.length) {
    config.volumes = hostVolumes.map((v) => `${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`)
    notes.ok('volumes')
  }

  dropNamedVolumes(spec, notes, 'Nomad host volumes or CSI volumes, declared on the clients')

  const task: Record<string, unknown> = {
    Name: spec.name,
    Driver: driver,
    Config: config,
    Env: spec.env,
    Resources: {CPU: Math.max(1, Math.round((spec.resources.cpuMilli / 1000) * mhz)), MemoryMB: mib(spec.resources.memBytes), ...(spec.resources.gpus > 0 ? {Devices: [{Name: 'nvidia/gpu', Count: spec.resources.gpus}]} : {})},
  }
  if (spec.resources.gpus > 0) notes.ok('gpus')
  if (spec.resources.diskBytes > 0) notes.approx('disk', 'Nomad reserves disk per group (EphemeralDisk), not per task')
  if (Object.keys(spec.labels).length) notes.drop('labels', 'container labels are driver config in Nomad; not carried over')
  const check = spec.healthCheck
  if (check?.type === 'cmd') notes.drop('healthCheck', 'Nomad\'s own service provider runs http and tcp checks only (a script check needs Consul)')
  else if (check) {
    const portLabel = ports[Math.max(0, spec.ports.findIndex((p) => p.containerPort === check.port))]?.Label
    // Nomad rejects check intervals and timeouts under 1s (minCheckInterval, minCheckTimeout).
    const ns = (ms: number): number => Math.max(1000, ms) * 1e6
    const base = {Interval: ns(check.intervalMs), Timeout: ns(check.timeoutMs)}
    const c = check.type === 'http' ? {Type: 'http', Path: check.path ?? '/', PortLabel: portLabel, ...base} : {Type: 'tcp', PortLabel: portLabel, ...base}
    task.Services = [{Name: spec.name, PortLabel: ports[0]?.Label, Provider: 'nomad', Checks: [c]}]
    if (check.intervalMs < 1000 || check.timeoutMs < 1000) notes.approx('healthCheck', 'Nomad checks run at most every 1s with a timeout of at least 1s')
    else notes.ok('healthCheck')
    notes.approx('healthCheck.maxConsecutiveFailures', 'check_restart limits are per Consul check; not carried over')
  }

  const group: Record<string, unknown> = {
    Name: spec.name,
    Count: spec.instances,
    Tasks: [task],
    ...(constraints.length ? {Constraints: constraints} : {}),
    ...(affinities.length ? {Affinities: affinities} : {}),
    ...(spreads.length ? {Spreads: spreads} : {}),
    ...(ports.length ? {Networks: [{DynamicPorts: ports}]} : {}),
    RestartPolicy: nomadRestart(spec.restart.policy === 'always' ? ALWAYS_ATTEMPTS : spec.restart.policy === 'never' ? 0 : spec.restart.maxRetries, spec.restart.policy === 'always' ? 'delay' : 'fail', 1e9, 600e9),
  }
  notes.approx('restart', `Nomad restarts within an interval (10 min here) then fails (on-failure, never) or waits out the interval (always: ${ALWAYS_ATTEMPTS} restarts per interval); back-off is a fixed delay`)
  if (spec.kind === 'service') {
    const u = spec.upgrade
    const bounds = rolloutBounds(u, spec.instances)
    // Nomad needs MinHealthyTime < HealthyDeadline < ProgressDeadline and a canary to auto-promote.
    const healthyDeadlineMs = Math.max(u.healthyDeadlineMs, u.minHealthyTimeMs + 1000)
    const progressDeadlineMs = Math.max(u.progressDeadlineMs, healthyDeadlineMs + 1000)
    group.Update = {MaxParallel: Math.max(1, bounds.maxUnavailable), Canary: u.canary, AutoPromote: u.autoPromoteMs !== null && u.canary > 0, AutoRevert: u.autoRollback, MinHealthyTime: u.minHealthyTimeMs * 1e6, HealthyDeadline: healthyDeadlineMs * 1e6, ProgressDeadline: progressDeadlineMs * 1e6}
    if (healthyDeadlineMs !== u.healthyDeadlineMs || progressDeadlineMs !== u.progressDeadlineMs) notes.approx('upgrade.deadlines', `Nomad needs minHealthyTime < healthyDeadline < progressDeadline: ${healthyDeadlineMs / 1000}s and ${progressDeadlineMs / 1000}s`)
    if (u.autoPromoteMs !== null && u.canary === 0) notes.drop('upgrade.autoPromote', 'Nomad auto-promotes canaries only; the job has none')
    notes.approx('upgrade', 'maxUnavailable becomes max_parallel (Nomad stops an old allocation before its replacement starts); maxSurge, maxFailedInstances and the autoPromote delay have no equivalent')
  }

  const job: Record<string, unknown> = {ID: spec.name, Name: spec.name, Type: spec.kind, Datacenters: ['*'], Priority: spec.priority ?? DEFAULT_PRIORITY, TaskGroups: [group]}
  notes.ok('priority')
  if (spec.preemption === 'never') notes.drop('preemption', 'Nomad preempts by job priority cluster-wide; a job cannot opt out')
  const run = spec.runPolicy
  if (run?.schedule) {
    if (/^R\d*\//.test(run.schedule)) notes.drop('schedule', 'ISO 8601 repeating intervals have no Nomad equivalent (periodic takes cron only)')
    else {
      job.Periodic = {Enabled: true, SpecType: 'cron', Specs: run.schedule.split('; '), TimeZone: run.timezone, ProhibitOverlap: run.concurrency !== 'allow'}
      notes.ok('schedule')
      if (run.concurrency === 'replace') notes.approx('concurrency', 'replace becomes prohibit_overlap (the new run is skipped, the old one not killed)')
    }

    if (run.deadlineMs !== null) notes.drop('deadline', 'Nomad batch jobs have no run deadline')
    if (run.suspend) notes.approx('suspend', 'Nomad has no suspended periodic job; stop it instead')
    notes.approx('retries', `retries become the group's restart attempts`)
    group.RestartPolicy = nomadRestart(run.retries, 'fail', 10e9, 3600e9)
  }

  return {Job: job}
}

/** A service restarts forever: at most this many times per interval, then Nomad waits the interval out. */
const ALWAYS_ATTEMPTS = 10

/** A Nomad restart block Nomad accepts: attempts x delay must fit the interval (which is at least 5s). */
function nomadRestart(attempts: number, mode: 'delay' | 'fail', delayNs: number, intervalNs: number): Record<string, unknown> {
  return {Attempts: attempts, Mode: mode, Delay: delayNs, Interval: Math.max(intervalNs, attempts * delayNs)}
}

function nomadConstraint(c: Constraint, out: Array<Record<string, unknown>>, spreads: Array<Record<string, unknown>>, notes: Notes): void {
  const field = `constraint ${formatConstraint(c)}`
  const target = nomadTarget(c.field)
  switch (c.operator) {
    case 'UNIQUE':
      if (c.field === 'hostname') out.push({Operand: 'distinct_hosts', RTarget: 'true'})
      else out.push({LTarget: target, Operand: 'distinct_property', RTarget: '1'})
      notes.ok(field)
      return
    case 'MAX_PER':
      out.push({LTarget: target, Operand: 'distinct_property', RTarget: c.value})
      notes.ok(field)
      return
    case 'IS':
      out.push({LTarget: target, Operand: '=', RTarget: c.value})
      notes.ok(field)
      return
    case 'CLUSTER':
      if (c.value !== undefined) {
        out.push({LTarget: target, Operand: '=', RTarget: c.value})
        notes.ok(field)
      } else notes.drop(field, 'a CLUSTER without a value (the first placement chooses) has no equivalent')
      return
    case 'GROUP_BY':
      spreads.push({Attribute: target, Weight: 100})
      notes.approx(field, 'becomes a spread, which is soft')
      return
    case 'LIKE':
    case 'UNLIKE':
      notes.drop(field, 'Marathon LIKE/UNLIKE regexes are matched in full; not carried over (Nomad regexp matches substrings and has no negation)')
  }
}

function toKubernetes(spec: JobSpec, notes: Notes): Array<Record<string, unknown>> {
  const name = spec.name
  const labels = {'app.kubernetes.io/name': name, 'app.kubernetes.io/managed-by': 'clusterctl-export'}
  const docs: Array<Record<string, unknown>> = []
  const priority = spec.priority ?? DEFAULT_PRIORITY
  const priorityClass = `clusterctl-priority-${priority}`
  docs.push({apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: {name: priorityClass}, value: priority * 1000, globalDefault: false, preemptionPolicy: spec.preemption === 'never' ? 'Never' : 'PreemptLowerPriority', description: `clusterctl priority ${priority}`})
  notes.approx('priority', 'a PriorityClass of value priority x 1000; Kubernetes preempts at once, without clusterctl\'s delay or 10-point gap')
  if (spec.preemption === 'never') notes.ok('preemption')

  const names = portNames(spec, notes)
  const container: Record<string, unknown> = {
    name,
    image: spec.image,
    ...(spec.command ? {command: spec.command} : {}),
    env: Object.entries(spec.env).map(([k, v]) => ({name: k, value: v})),
    resources: {
      requests: {cpu: `${spec.resources.cpuMilli}m`, memory: `${mib(spec.resources.memBytes)}Mi`, ...(spec.resources.diskBytes > 0 ? {'ephemeral-storage': `${mib(spec.resources.diskBytes)}Mi`} : {})},
      limits: {cpu: `${spec.resources.cpuMilli}m`, memory: `${mib(spec.resources.memBytes)}Mi`, ...(spec.resources.gpus > 0 ? {'nvidia.com/gpu': String(spec.resources.gpus)} : {})},
    },
    ...(spec.ports.length ? {ports: spec.ports.map((p, i) => ({name: names[i]!, containerPort: p.containerPort === 0 ? 8080 + i : p.containerPort, protocol: p.protocol.toUpperCase()}))} : {}),
  }
  notes.ok('cpus')
  notes.ok('mem')
  if (spec.resources.gpus > 0) notes.approx('gpus', 'nvidia.com/gpu (the NVIDIA device plugin)')
  if (spec.command) notes.ok('command')
  if (spec.ports.some((p) => p.containerPort === 0)) notes.approx('ports', 'port 0 (listen on $PORT0) becomes a fixed container port 8080+N; the Service maps it')
  else if (spec.ports.length) notes.ok('ports')
  const podMeta = kubePodMetadata(spec, labels, notes)
  const check = spec.healthCheck
  if (check) {
    // The checked port as the container exposes it (port 0 became 8080+N above).
    const exposed = container.ports as Array<{containerPort: number}> | undefined
    const port = exposed?.[Math.max(0, spec.ports.findIndex((p) => p.containerPort === check.port))]?.containerPort ?? 8080
    const handler = check.type === 'http' ? {httpGet: {path: check.path ?? '/', port}} : check.type === 'tcp' ? {tcpSocket: {port}} : {exec: {command: ['/bin/sh', '-c', check.command]}}
    container.livenessProbe = {...handler, initialDelaySeconds: Math.round(check.gracePeriodMs / 1000), periodSeconds: Math.max(1, Math.round(check.intervalMs / 1000)), timeoutSeconds: Math.max(1, Math.round(check.timeoutMs / 1000)), failureThreshold: check.maxConsecutiveFailures}
    notes.ok('healthCheck')
  }

  const hostVolumes = spec.volumes.filter((v) => !isNamed(v))
  const volumes = hostVolumes.map((v, i) => ({name: `vol${i}`, hostPath: {path: v.source}}))
  if (volumes.length) {
    container.volumeMounts = hostVolumes.map((v, i) => ({name: `vol${i}`, mountPath: v.target, readOnly: v.readOnly}))
    notes.approx('volumes', 'host paths become hostPath volumes')
  }

  dropNamedVolumes(spec, notes, 'a StatefulSet\'s volumeClaimTemplates (local) or an NFS PersistentVolume')

  const {affinity, nodeSelector, spread} = kubePlacement(spec, labels, notes)
  const pod = {
    metadata: podMeta,
    spec: {
      priorityClassName: priorityClass,
      containers: [container],
      ...(volumes.length ? {volumes} : {}),
      ...(Object.keys(nodeSelector).length ? {nodeSelector} : {}),
      ...(affinity ? {affinity} : {}),
      ...(spread.length ? {topologySpreadConstraints: spread} : {}),
      ...(spec.kind === 'batch' ? {restartPolicy: spec.restart.policy === 'never' ? 'Never' : 'OnFailure'} : {}),
    },
  }
  const meta = {name, labels}
  if (spec.kind === 'service') {
    const minReadySeconds = Math.round(spec.upgrade.minHealthyTimeMs / 1000)
    docs.push({apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta, spec: {replicas: spec.instances, selector: {matchLabels: labels}, template: pod, strategy: {type: 'RollingUpdate', rollingUpdate: {maxUnavailable: spec.upgrade.maxUnavailable, maxSurge: spec.upgrade.maxSurge}}, minReadySeconds, progressDeadlineSeconds: Math.max(minReadySeconds + 1, Math.round(spec.upgrade.progressDeadlineMs / 1000))}})
    // Kubernetes rejects a progress deadline that is not longer than minReadySeconds.
    if (Math.round(spec.upgrade.progressDeadlineMs / 1000) <= minReadySeconds) notes.approx('upgrade.progressDeadline', `Kubernetes needs progressDeadlineSeconds > minReadySeconds: ${minReadySeconds + 1}s`)
    else notes.ok('upgrade')
    notes.approx('restart', 'a Deployment always restarts its pods (back-off by the kubelet)')
    docs.push({apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta, spec: {maxUnavailable: rolloutBounds(spec.upgrade, spec.instances).maxUnavailable, selector: {matchLabels: labels}}})
    if (spec.ports.length) {
      const serviceName = kubeName(name, 63, true)
      if (serviceName !== name) notes.approx('name', `the Service is named ${serviceName} (a Service name starts with a letter)`)
      docs.push({apiVersion: 'v1', kind: 'Service', metadata: {...meta, name: serviceName}, spec: {selector: labels, ports: (container.ports as Array<{name: string; containerPort: number; protocol: string}>).map((p) => ({name: p.name, port: p.containerPort, targetPort: p.containerPort, protocol: p.protocol}))}})
    }
  } else if (spec.runPolicy?.schedule && !/^R\d*\//.test(spec.runPolicy.schedule)) {
    const run = spec.runPolicy
    const schedules = run.schedule!.split('; ')
    const cronJobName = kubeName(name, 52, false)
    if (cronJobName !== name) notes.approx('name', `the CronJob is named ${cronJobName} (at most 52 characters: its Jobs add 11)`)
    if (schedules.length > 1) notes.approx('schedule', `only the first of ${schedules.length} cron expressions (a CronJob takes one)`)
    else notes.ok('schedule')
    notes.ok('timezone')
    notes.ok('concurrency')
    notes.ok('retries')
    if (run.catchUp === 'all') notes.approx('catchUp', 'a CronJob starts at most one missed run')
    docs.push({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: {...meta, name: cronJobName},
      spec: {
        schedule: schedules[0],
        timeZone: run.timezone,
        concurrencyPolicy: {forbid: 'Forbid', allow: 'Allow', replace: 'Replace'}[run.concurrency],
        suspend: run.suspend,
        ...(run.startingDeadlineMs === null ? {} : {startingDeadlineSeconds: Math.round(run.startingDeadlineMs / 1000)}),
        jobTemplate: {spec: {backoffLimit: run.retries, ...(run.deadlineMs === null ? {} : {activeDeadlineSeconds: Math.round(run.deadlineMs / 1000)}), template: {...pod, spec: {...pod.spec, restartPolicy: 'Never'}}}},
      },
    })
  } else {
    if (spec.runPolicy?.schedule) notes.drop('schedule', 'ISO 8601 repeating intervals have no CronJob equivalent; exported as a plain Job')
    docs.push({apiVersion: 'batch/v1', kind: 'Job', metadata: meta, spec: {completions: spec.instances, parallelism: spec.instances, backoffLimit: spec.runPolicy ? spec.runPolicy.retries : spec.restart.maxRetries, template: pod}})
    notes.ok('restart')
  }

  return docs
}

/**
 * A job name as a Kubernetes name of at most `max` characters (a CronJob's 52), starting with a letter
 * when `letterFirst` (a Service's DNS-1035 label): shortened ones end in a hash of the whole name.
 */
function kubeName(name: string, max: number, letterFirst: boolean): string {
  const lettered = letterFirst && !/^[a-z]/.test(name) ? `j-${name}` : name
  if (lettered.length <= max) return lettered
  let hash = 5381
  for (const ch of name) hash = ((hash * 33) ^ ch.charCodeAt(0)) >>> 0
  return `${lettered.slice(0, max - 7).replace(/-+$/, '')}-${hash.toString(36).padStart(6, '0').slice(-6)}`
}

/** Kubernetes label syntax: an optional DNS-subdomain prefix and a name of at most 63 characters; values likewise (or empty). */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const LABEL_PREFIX = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const labelKey = (k: string): boolean => {
  const slash = k.lastIndexOf('/')
  return LABEL_NAME.test(k.slice(slash + 1)) && (slash < 0 || LABEL_PREFIX.test(k.slice(0, slash)))
}

/** The pod's labels (the selector's, then the container labels Kubernetes takes as labels) and annotations (the values it does not). */
function kubePodMetadata(spec: JobSpec, selector: Record<string, string>, notes: Notes): {labels: Record<string, string>; annotations?: Record<string, string>} {
  const podLabels = {...selector}
  const annotations: Record<string, string> = {}
  const dropped: string[] = []
  for (const [k, v] of Object.entries(spec.labels)) {
    if (!labelKey(k) || k in selector) dropped.push(k)
    else if (v === '' || LABEL_NAME.test(v)) podLabels[k] = v
    else annotations[k] = v
  }

  if (Object.keys(spec.labels).length) notes.approx('labels', 'container labels become pod labels (pod annotations when the value is not a valid label value)')
  if (dropped.length) notes.drop('labels', `${dropped.map((k) => JSON.stringify(k)).join(', ')}: not a Kubernetes label name, or the selector's own`)
  return {labels: podLabels, ...(Object.keys(annotations).length ? {annotations} : {})}
}

function kubePlacement(spec: JobSpec, labels: Record<string, string>, notes: Notes): {affinity: Record<string, unknown> | undefined; nodeSelector: Record<string, string>; spread: Array<Record<string, unknown>>} {
  const nodeSelector: Record<string, string> = {}
  const spread: Array<Record<string, unknown>> = []
  const antiAffinity: Array<Record<string, unknown>> = []
  const key = (field: string): string => (field === 'hostname' ? 'kubernetes.io/hostname' : field)
  for (const c of spec.constraints) {
    const field = `constraint ${formatConstraint(c)}`
    if (c.operator === 'IS' || (c.operator === 'CLUSTER' && c.value !== undefined)) {
      nodeSelector[key(c.field)] = c.value!
      notes.ok(field)
    } else if (c.operator === 'UNIQUE') {
      antiAffinity.push({labelSelector: {matchLabels: labels}, topologyKey: key(c.field)})
      notes.ok(field)
    } else if (c.operator === 'GROUP_BY' || c.operator === 'MAX_PER') {
      spread.push({maxSkew: 1, topologyKey: key(c.field), whenUnsatisfiable: 'DoNotSchedule', labelSelector: {matchLabels: labels}})
      notes.approx(field, c.operator === 'MAX_PER' ? 'becomes an even spread (maxSkew 1), not a per-value maximum' : 'becomes a topology spread constraint (maxSkew 1)')
    } else if (c.operator === 'CLUSTER') notes.drop(field, 'a CLUSTER without a value (the first placement chooses) has no equivalent')
    else notes.drop(field, 'Marathon LIKE/UNLIKE regexes have no equivalent (node affinity matches values, not patterns)')
  }

  const preferred = spec.preferences.map((p) => ({weight: Math.min(100, p.weight ?? 1), preference: {matchExpressions: [{key: key(p.field), operator: 'In', values: [p.value]}]}}))
  if (preferred.length) notes.ok('preferences')
  const affinity = antiAffinity.length || preferred.length ? {...(antiAffinity.length ? {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: antiAffinity}} : {}), ...(preferred.length ? {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: preferred}} : {})} : undefined
  return {affinity, nodeSelector, spread}
}

/** Local and NFS volumes are clusterctl objects: reported dropped, with what stands for them there. */
function dropNamedVolumes(spec: JobSpec, notes: Notes, there: string): void {
  const named = spec.volumes.filter((v) => isNamed(v))
  if (named.length) notes.drop('volumes', `the named volumes ${named.map((v) => `${v.source} (${v.local ? 'local' : 'nfs'})`).join(', ')} are not exported: use ${there}`)
}

/*
 * The targets' published schemas, offline, for the export tests (docs/export.md):
 * - Kubernetes: kubernetes-models (the Kubernetes 1.27 OpenAPI definitions compiled to
 *   ajv validators), one model class per kind the exporter emits;
 * - Nomad: test/fixtures/nomad/job.schema.json, transcribed from hashicorp/nomad's api
 *   Go structs (its README names the commit), checked by the small JSON Schema subset
 *   validator below (the schema uses only the keywords it implements).
 * Plus the cross-field rules the servers check that a schema cannot say (names, selectors,
 * port labels).
 */
import fs from 'node:fs'
import path from 'node:path'

import {Deployment} from 'kubernetes-models/apps/v1/Deployment'
import {CronJob} from 'kubernetes-models/batch/v1/CronJob'
import {Job} from 'kubernetes-models/batch/v1/Job'
import {PodDisruptionBudget} from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import {PriorityClass} from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass'
import {Service} from 'kubernetes-models/v1/Service'

type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const KUBE_MODELS: Record<string, new (data: any) => {validate(): void}> = { // eslint-disable-line @typescript-eslint/no-explicit-any
  'apps/v1 Deployment': Deployment,
  'batch/v1 CronJob': CronJob,
  'batch/v1 Job': Job,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'scheduling.k8s.io/v1 PriorityClass': PriorityClass,
  'v1 Service': Service,
}

/** Kubernetes' DNS-1123 label (object and container names) and IANA_SVC_NAME (port names). */
const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
/** Label names (after the optional prefix) and values. */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** What the Kubernetes OpenAPI schema of the document's kind, and the API server's name and selector rules, reject. */
export function kubeProblems(written: Doc): string[] {
  const doc = JSON.parse(JSON.stringify(written)) as Doc // as written to the file
  const what = `${doc.apiVersion as string} ${doc.kind as string}`
  const Model = KUBE_MODELS[what]
  if (!Model) return [`unknown kind ${what}`]
  const p: string[] = []
  try {
    new Model(doc).validate()
  } catch (error) {
    p.push(`${what}: ${(error as Error).message}`)
  }

  const need = (cond: boolean, message: string) => cond || p.push(`${what}: ${message}`)
  need(DNS1123.test(doc.metadata?.name ?? '') && doc.metadata.name.length <= 63, 'metadata.name is a DNS-1123 label')
  if (doc.kind === 'Service') need(/^[a-z]/.test(doc.metadata.name), 'a Service name is a DNS-1035 label (starts with a letter)')
  if (doc.kind === 'CronJob') need(doc.metadata.name.length <= 52, 'a CronJob name has at most 52 characters (its Jobs add 11)')
  const labelProblems = (labels: Doc | undefined, where: string) => {
    for (const [k, v] of Object.entries(labels ?? {})) {
      const slash = k.lastIndexOf('/')
      need(LABEL_NAME.test(k.slice(slash + 1)) && (slash < 0 || DNS1123_SUBDOMAIN.test(k.slice(0, slash))), `${where} label key ${k}`)
      need(typeof v === 'string' && (v === '' || LABEL_NAME.test(v)), `${where} label value ${JSON.stringify(v)}`)
    }
  }

  labelProblems(doc.metadata?.labels, 'metadata')
  const template = doc.kind === 'CronJob' ? doc.spec?.jobTemplate?.spec?.template : doc.spec?.template
  labelProblems(template?.metadata?.labels, 'pod')
  for (const c of template?.spec?.containers ?? []) {
    need(DNS1123.test(c.name) && typeof c.image === 'string', 'container name (DNS-1123) and image')
    for (const port of c.ports ?? []) need(IANA_SVC_NAME.test(port.name) && port.name.length <= 15, `port name ${String(port.name)} is an IANA_SVC_NAME`)
    for (const port of [...(c.ports ?? []).map((x: Doc) => x.containerPort), c.livenessProbe?.httpGet?.port, c.livenessProbe?.tcpSocket?.port]) need(port === undefined || (Number.isInteger(port) && port >= 1 && port <= 65_535), `port ${String(port)} in 1-65535`)
  }

  if (doc.kind === 'Deployment' || doc.kind === 'Job') need(Object.entries(doc.spec.selector?.matchLabels ?? template.metadata.labels).every(([k, v]) => template.metadata.labels[k] === v), 'the selector matches the template labels')
  if (doc.kind === 'Job' || doc.kind === 'CronJob') need(['Never', 'OnFailure'].includes(template.spec.restartPolicy), 'a Job\'s restartPolicy is Never or OnFailure')
  if (doc.kind === 'PodDisruptionBudget') need((doc.spec.minAvailable === undefined) !== (doc.spec.maxUnavailable === undefined), 'one of minAvailable, maxUnavailable')
  if (doc.kind === 'Deployment' && doc.spec.progressDeadlineSeconds !== undefined) need(doc.spec.progressDeadlineSeconds > (doc.spec.minReadySeconds ?? 0), 'progressDeadlineSeconds > minReadySeconds')
  if (doc.kind === 'PriorityClass') need(doc.value <= 1e9, 'value at most 1e9 (user classes)')
  return p
}

interface Schema {
  $ref?: string
  additionalProperties?: boolean | Schema
  const?: unknown
  enum?: unknown[]
  items?: Schema
  maximum?: number
  minimum?: number
  minItems?: number
  not?: Schema
  properties?: Record<string, Schema>
  required?: string[]
  type?: 'array' | 'boolean' | 'integer' | 'object' | 'string'
}

const NOMAD_SCHEMA = JSON.parse(fs.readFileSync(path.join(process.cwd(), 'test', 'fixtures', 'nomad', 'job.schema.json'), 'utf8')) as Schema & {definitions: Record<string, Schema>}

const typeOf = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : Number.isSafeInteger(v) ? 'integer' : typeof v)

/** The problems of `value` against `schema` (the keywords of Schema; durations are integers, so safe integers only). */
function schemaProblems(value: unknown, schema: Schema, at: string, out: string[]): void {
  if (schema.$ref) return schemaProblems(value, NOMAD_SCHEMA.definitions[schema.$ref.replace('#/definitions/', '')]!, at, out)
  if (schema.type && typeOf(value) !== schema.type) return void out.push(`${at}: must be ${schema.type}, got ${JSON.stringify(value)}`)
  if (schema.enum && !schema.enum.includes(value)) out.push(`${at}: must be one of ${JSON.stringify(schema.enum)}, got ${JSON.stringify(value)}`)
  if (schema.const !== undefined && value !== schema.const) out.push(`${at}: must be ${JSON.stringify(schema.const)}`)
  if (schema.not) {
    const inner: string[] = []
    schemaProblems(value, schema.not, at, inner)
    if (inner.length === 0) out.push(`${at}: must not match ${JSON.stringify(schema.not)}, got ${JSON.stringify(value)}`)
  }

  if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum) out.push(`${at}: must be >= ${schema.minimum}, got ${value}`)
  if (typeof value === 'number' && schema.maximum !== undefined && value > schema.maximum) out.push(`${at}: must be <= ${schema.maximum}, got ${value}`)
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) out.push(`${at}: needs at least ${schema.minItems} items`)
    if (schema.items) for (const [i, item] of value.entries()) schemaProblems(item, schema.items, `${at}[${i}]`, out)
  }

  if (typeOf(value) === 'object') {
    const o = value as Record<string, unknown>
    for (const key of schema.required ?? []) if (o[key] === undefined) out.push(`${at}: ${key} is required`)
    for (const [key, v] of Object.entries(o)) {
      const property = schema.properties?.[key] ?? schema.additionalProperties
      if (property === false) out.push(`${at}.${key}: not a field of the Nomad API`)
      else if (property && property !== true) schemaProblems(v, property, `${at}.${key}`, out)
    }
  }
}

/** What the Nomad job schema (test/fixtures/nomad) and Nomad's job validation reject. */
export function nomadProblems(written: Doc): string[] {
  const doc = JSON.parse(JSON.stringify(written)) as Doc // as written to the file
  const p: string[] = []
  schemaProblems(doc, NOMAD_SCHEMA, '', p)
  for (const g of doc.Job?.TaskGroups ?? []) {
    // nomad/structs/structs.go RestartPolicy.Validate and UpdateStrategy.Validate (after the API's defaults).
    const r = g.RestartPolicy
    if (r && r.Attempts === 0 && r.Mode !== 'fail') p.push(`group ${String(g.Name)}: restart mode ${String(r.Mode)} with 0 attempts is ambiguous`)
    if (r && r.Interval < 5e9) p.push(`group ${String(g.Name)}: restart interval under 5s`)
    if (r && r.Attempts * r.Delay > r.Interval) p.push(`group ${String(g.Name)}: ${String(r.Attempts)} restarts with a delay of ${String(r.Delay)}ns do not fit the interval ${String(r.Interval)}ns`)
    const u = {MinHealthyTime: 10e9, HealthyDeadline: 300e9, ProgressDeadline: 600e9, Canary: 0, AutoPromote: false, ...g.Update}
    if (g.Update && u.MinHealthyTime >= u.HealthyDeadline) p.push(`group ${String(g.Name)}: MinHealthyTime must be less than HealthyDeadline`)
    if (g.Update && u.ProgressDeadline !== 0 && u.HealthyDeadline >= u.ProgressDeadline) p.push(`group ${String(g.Name)}: HealthyDeadline must be less than ProgressDeadline`)
    if (g.Update && u.AutoPromote && u.Canary === 0) p.push(`group ${String(g.Name)}: AutoPromote requires a Canary count greater than zero`)
    const labels = (g.Networks ?? []).flatMap((n: Doc) => (n.DynamicPorts ?? []).map((d: Doc) => d.Label))
    if (new Set(labels).size !== labels.length) p.push(`group ${String(g.Name)}: port labels are unique`)
    for (const t of g.Tasks ?? []) {
      for (const s of t.Services ?? []) for (const c of s.Checks ?? []) if (s.PortLabel === undefined && c.PortLabel === undefined) p.push(`service ${String(s.Name)}: a ${String(c.Type)} check requires a port`)
      for (const l of [...(t.Config?.ports ?? []), ...(t.Services ?? []).flatMap((s: Doc) => [s.PortLabel, ...(s.Checks ?? []).map((c: Doc) => c.PortLabel)])]) {
        if (l !== undefined && !labels.includes(l)) p.push(`group ${String(g.Name)}: port label ${String(l)} is declared in the group network`)
      }
    }
  }

  return p
}

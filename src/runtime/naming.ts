/**
 * Deterministic container names and labels (DESIGN principle 3): the same task always
 * gets the same name on every runtime, so a retried or crashed start finds what the
 * first attempt made instead of making a second one, and the labels say whose it is.
 */
import {createHash} from 'node:crypto'

import type {ContainerSpec} from './types.js'

export const LABEL_PREFIX = 'io.clusterctl.'
export const LABELS = {
  cluster: 'io.clusterctl.cluster',
  job: 'io.clusterctl.job',
  task: 'io.clusterctl.task',
  instance: 'io.clusterctl.instance',
  specHash: 'io.clusterctl.spec-hash',
} as const

/**
 * Labels the containerd driver keeps its own bookkeeping in (ctr has no start time or
 * exit status that survives `ctr task rm`). They are read into ObservedContainer fields
 * and never reported as labels.
 */
export const INTERNAL_LABELS = {
  startedAt: 'io.clusterctl.started-at',
  exitCode: 'io.clusterctl.exit-code',
  finishedAt: 'io.clusterctl.finished-at',
  /** containerd publishes nothing (host networking): the host ports given to the task, `31000,31001`. */
  hostPorts: 'io.clusterctl.host-ports',
} as const

/** A name podman and containerd both accept (containerd's identifier rule, max 76). */
export const CONTAINER_NAME_PATTERN = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/
export const CONTAINER_NAME_MAX = 76

export function isValidContainerName(name: string): boolean {
  return name.length <= CONTAINER_NAME_MAX && CONTAINER_NAME_PATTERN.test(name)
}

export interface TaskIdentity {
  clusterId: string
  jobName: string
  instance: number
  taskId: string
}

/** Letters, digits and single separators; anything else becomes `-`. */
function slug(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/[._-]{2,}/g, (run) => run[0]!)
    .replace(/^[._-]+|[._-]+$/g, '')
}

/**
 * `cctl-<job>-<instance>-<first 8 of taskId>`, e.g. `cctl-web-0-1f3a9c2e`. The job part
 * is made safe (`/shop/web` -> `shop-web`) and shortened to keep the whole within 76
 * characters; the task part keeps names unique. The cluster id is in the labels only.
 */
export function containerName(id: TaskIdentity): string {
  if (!Number.isSafeInteger(id.instance) || id.instance < 0) throw new RangeError(`instance must be a non-negative integer, got ${id.instance}`)
  const task = slug(id.taskId).replace(/[._-]/g, '').slice(0, 8) || 'task'
  const suffix = `-${id.instance}-${task}`
  const room = CONTAINER_NAME_MAX - 'cctl-'.length - suffix.length
  const job = slug(slug(id.jobName).slice(0, room)) || 'job'
  return `cctl-${job}${suffix}`
}

export interface TaskLabelInput extends TaskIdentity {
  specHash: string
}

export function taskLabels(input: TaskLabelInput): Record<string, string> {
  return {
    [LABELS.cluster]: input.clusterId,
    [LABELS.job]: input.jobName,
    [LABELS.task]: input.taskId,
    [LABELS.instance]: String(input.instance),
    [LABELS.specHash]: input.specHash,
  }
}

/** The selector that finds every container of a cluster (or of one job: add LABELS.job). */
export function clusterSelector(clusterId: string, jobName?: string): Record<string, string> {
  return jobName === undefined ? {[LABELS.cluster]: clusterId} : {[LABELS.cluster]: clusterId, [LABELS.job]: jobName}
}

/**
 * A short hash of what would run: image, command, env, limits, ports, volumes and network (not
 * the name, labels or grace period). Two specs with the same hash make the same container.
 */
export function specHashOf(spec: Pick<ContainerSpec, 'image' | 'command' | 'env' | 'cpuMilli' | 'memBytes' | 'ports' | 'volumes' | 'network'>): string {
  const canonical = JSON.stringify([
    spec.image,
    spec.command && spec.command.length > 0 ? spec.command : null,
    Object.keys(spec.env)
      .sort()
      .map((k) => [k, spec.env[k]]),
    spec.cpuMilli,
    spec.memBytes,
    spec.ports.map((p) => [p.containerPort, p.hostPort, p.protocol]),
    spec.volumes.map((v) => [v.source, v.target, v.readOnly]),
    // a network changes the container; without one the hash is what it always was
    ...(spec.network ? [[spec.network.name, spec.network.aliases]] : []),
  ])
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16)
}

/** The spec hash the start compares: the label when the caller set one, else specHashOf. */
export function effectiveSpecHash(spec: ContainerSpec): string {
  return spec.labels[LABELS.specHash] ?? specHashOf(spec)
}

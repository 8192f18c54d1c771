/**
 * The spec's `volumes` (docs/volumes.md): host paths, named local volumes and NFS
 * exports. Every form becomes a VolumeSpec; each problem is thrown as a UserError that
 * names the value, and validate.ts files it under the item's field.
 *
 *   "/srv/data:/data:ro"                 a host path
 *   "data:/data"                         a local volume (1Gi) named data (instance i: data-i)
 *   {source: /srv, target: /data}        a host path (the older object form)
 *   {name, mount, readOnly, source: {local: {size}} | {nfs: {server, export, options}} | {host: PATH}}
 */
import {UserError} from '../errors.js'
import type {NfsSource, VolumeSpec} from '../model/job.js'
import {formatBytes, parseBytes} from '../model/resources.js'
import {VOLUME_NAME} from '../model/volume.js'

/** The size of a local volume that gives none. */
export const DEFAULT_LOCAL_SIZE = 1024 ** 3
/** Room left for the `-INSTANCE` suffix within a 63-character name. */
export const MAX_VOLUME_NAME = 50
const MAX_LOCAL_SIZE = 1024 ** 5
const NFS_SERVER = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/
const NFS_OPTIONS = /^[A-Za-z0-9_.=-]+(,[A-Za-z0-9_.=-]+)*$/

const describe = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v))

function checkName(name: string): string {
  if (!VOLUME_NAME.test(name) || name.length > MAX_VOLUME_NAME) throw new UserError(`${JSON.stringify(name)} is not a volume name: use lower-case letters, digits and '-', at most ${MAX_VOLUME_NAME}, starting and ending with a letter or digit`)
  return name
}

function checkTarget(target: string): string {
  if (!target.startsWith('/')) throw new UserError(`the mount must be an absolute path in the container, got ${JSON.stringify(target)}`)
  if (/[,:\n\0]/.test(target)) throw new UserError(`the mount ${JSON.stringify(target)} contains a comma, a colon or a newline, which container runtimes cannot mount`)
  return target
}

function checkHostPath(path: string): string {
  if (!path.startsWith('/')) throw new UserError(`the source must be an absolute host path, got ${JSON.stringify(path)}`)
  return path
}

/** `SERVER:/EXPORT` and mount options, checked: nothing in them may break a mount command or a podman option. */
export function checkNfs(server: unknown, exported: unknown, options: unknown): NfsSource {
  if (typeof server !== 'string' || !NFS_SERVER.test(server)) throw new UserError(`nfs.server must be a host name or IPv4 address like 10.0.0.5, got ${describe(server)}`)
  if (typeof exported !== 'string' || !/^\/[A-Za-z0-9._/-]*$/.test(exported)) throw new UserError(`nfs.export must be an absolute path of letters, digits and . _ - / like /srv/share, got ${describe(exported)}`)
  const opts = options === undefined || options === null ? 'rw' : options
  if (typeof opts !== 'string' || !NFS_OPTIONS.test(opts)) throw new UserError(`nfs.options must be comma-separated mount options like rw,nfsvers=4, got ${describe(options)}`)
  if (/(^|,)addr=/.test(opts)) throw new UserError('nfs.options must not set addr= (it comes from nfs.server)')
  return {server, export: exported, options: opts}
}

/**
 * A Docker volume of the `local` driver mounting NFS (driver options `type=nfs`,
 * `o=addr=SERVER[,OPTIONS]`, `device=:/EXPORT` or `device=SERVER:/EXPORT`): clusterctl's NFS
 * volume, which podman makes with the same driver and options. Null for any other driver,
 * type or option (Chronos' and Marathon's external volumes: docs/marathon.md, docs/scheduled-jobs.md).
 */
export function nfsOfLocalDriver(driver: unknown, options: Record<string, unknown>): NfsSource | null {
  if (driver !== 'local' || options.type !== 'nfs' || typeof options.device !== 'string' || Object.keys(options).some((k) => !['type', 'o', 'device'].includes(k))) return null
  const o = typeof options.o === 'string' ? options.o.split(',').filter(Boolean) : []
  const addr = o.find((x) => x.startsWith('addr='))
  const colon = options.device.indexOf(':')
  const server = addr ? addr.slice('addr='.length) : options.device.slice(0, Math.max(0, colon))
  const rest = o.filter((x) => x !== addr)
  try {
    return colon === -1 ? null : checkNfs(server, options.device.slice(colon + 1), rest.length > 0 ? rest.join(',') : undefined)
  } catch {
    return null
  }
}

/** A name from elsewhere (a Docker volume's) as a volume name: lower case, other characters as '-'. */
export function volumeNameOf(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, MAX_VOLUME_NAME).replace(/-+$/, '')
}

/** `SRC:DST[:ro]`: a host path when SRC is absolute, else a local volume named SRC. */
export function parseVolumeText(text: string): VolumeSpec {
  const parts = text.split(':')
  if (parts.length < 2 || parts.length > 3 || parts[0] === '' || parts[1] === '') throw new UserError(`expected SRC:DST[:ro] like /srv/data:/data:ro (a host path) or data:/data (a local volume), got ${JSON.stringify(text)}`)
  if (parts[2] !== undefined && parts[2] !== 'ro' && parts[2] !== 'rw') throw new UserError(`the mode must be ro or rw, got ${JSON.stringify(parts[2])} in ${JSON.stringify(text)}`)
  const readOnly = parts[2] === 'ro'
  const target = checkTarget(parts[1]!)
  if (parts[0]!.startsWith('/')) return {source: parts[0]!, target, readOnly}
  return {source: checkName(parts[0]!), target, readOnly, local: {sizeBytes: DEFAULT_LOCAL_SIZE}}
}

/** `--nfs NAME=SERVER:/EXPORT:DST[:ro]`. */
export function parseNfsFlag(text: string): Record<string, unknown> {
  const m = /^([^=]+)=([^:]+):(\/[^:]*):([^:]+)(?::(ro|rw))?$/.exec(text)
  if (!m) throw new UserError(`--nfs expects NAME=SERVER:/EXPORT:DST[:ro] like shared=10.0.0.5:/srv/share:/data, got ${JSON.stringify(text)}`)
  return {name: m[1], mount: m[4], readOnly: m[5] === 'ro', source: {nfs: {server: m[2], export: m[3]}}}
}

const OBJECT_KEYS = ['name', 'mount', 'readOnly', 'source', 'target']

/** One item of `volumes`, in any of its forms. */
export function parseVolumeItem(item: unknown): VolumeSpec {
  if (typeof item === 'string') return parseVolumeText(item)
  if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new UserError(`must be "SRC:DST[:ro]" or {name, mount, source: {local: {size}} | {nfs: {server, export}} | {host: PATH}}, got ${describe(item)}`)
  const o = item as Record<string, unknown>
  const unknown = Object.keys(o).filter((k) => !OBJECT_KEYS.includes(k))
  if (unknown.length > 0) throw new UserError(`unknown field ${unknown[0]}; the fields are name, mount, readOnly, source`)
  if (o.readOnly !== undefined && typeof o.readOnly !== 'boolean') throw new UserError(`readOnly must be true or false, got ${describe(o.readOnly)}`)
  const readOnly = o.readOnly === true
  const mount = o.mount ?? o.target
  if (typeof mount !== 'string') throw new UserError(`mount is required: the absolute path in the container, like /data (got ${describe(mount)})`)
  const target = checkTarget(mount)
  // The older object form: {source: PATH, target: PATH}
  if (typeof o.source === 'string') return {source: checkHostPath(o.source), target, readOnly}
  if (o.source === null || typeof o.source !== 'object' || Array.isArray(o.source)) throw new UserError(`source must be {local: {size}}, {nfs: {server, export, options}} or {host: PATH}, got ${describe(o.source)}`)
  const source = o.source as Record<string, unknown>
  const kinds = ['local', 'nfs', 'host'].filter((k) => source[k] !== undefined)
  if (kinds.length !== 1 || Object.keys(source).length !== 1) throw new UserError(`source must have exactly one of local, nfs and host, got ${Object.keys(source).join(', ') || 'none'}`)
  if (kinds[0] === 'host') {
    if (typeof source.host !== 'string') throw new UserError(`source.host must be an absolute host path, got ${describe(source.host)}`)
    return {source: checkHostPath(source.host), target, readOnly}
  }

  if (typeof o.name !== 'string') throw new UserError(`name is required for a ${kinds[0]} volume (got ${describe(o.name)})`)
  const name = checkName(o.name)
  if (kinds[0] === 'nfs') {
    const n = source.nfs
    if (n === null || typeof n !== 'object' || Array.isArray(n)) throw new UserError(`source.nfs must be {server, export, options}, got ${describe(n)}`)
    const nfs = n as Record<string, unknown>
    const extra = Object.keys(nfs).filter((k) => !['server', 'export', 'options'].includes(k))
    if (extra.length > 0) throw new UserError(`source.nfs: unknown field ${extra[0]}; the fields are server, export, options`)
    return {source: name, target, readOnly, nfs: checkNfs(nfs.server, nfs.export, nfs.options)}
  }

  const l = source.local
  if (l === null || typeof l !== 'object' || Array.isArray(l)) throw new UserError(`source.local must be {size: SIZE} like {size: 1Gi}, got ${describe(l)}`)
  const local = l as Record<string, unknown>
  const extra = Object.keys(local).filter((k) => k !== 'size')
  if (extra.length > 0) throw new UserError(`source.local: unknown field ${extra[0]}; the field is size`)
  const sizeBytes = local.size === undefined ? DEFAULT_LOCAL_SIZE : parseBytes(String(local.size), 'source.local.size')
  if (sizeBytes <= 0 || sizeBytes > MAX_LOCAL_SIZE) throw new UserError(`source.local.size must be more than 0 and at most ${formatBytes(MAX_LOCAL_SIZE)}, got ${describe(local.size)}`)
  return {source: name, target, readOnly, local: {sizeBytes}}
}

/** Problems of the list as a whole: a name or a mount given twice. */
export function volumeListProblems(volumes: readonly VolumeSpec[]): string[] {
  const out: string[] = []
  const names = new Set<string>()
  const targets = new Set<string>()
  for (const v of volumes) {
    if (v.local || v.nfs) {
      if (names.has(v.source)) out.push(`the volume ${v.source} is listed twice`)
      names.add(v.source)
    }

    if (targets.has(v.target)) out.push(`${v.target} is mounted twice`)
    targets.add(v.target)
  }

  return out
}

/**
 * Cluster settings: named on/off switches kept in the `meta` table (key `setting:NAME`),
 * read by every pass. Only the names in SETTINGS exist; each has a default.
 */
import {UserError} from '../errors.js'
import {readMeta, writeMeta} from './meta.js'
import type {Store} from './store.js'

export interface SettingInfo {
  readonly default: boolean
  readonly description: string
}

export const SETTINGS = {
  consolidate: {
    default: false,
    description:
      'When the cluster is quiet, move running service tasks (make-before-break, within the move budget) so that whole nodes empty. Tasks of jobs with volumes never move for it.',
  },
} as const satisfies Record<string, SettingInfo>

export type SettingName = keyof typeof SETTINGS
export type Settings = Record<SettingName, boolean>

export function readSettings(store: Store): Settings {
  const out = {} as Settings
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const v = readMeta(store, `setting:${name}`)
    out[name] = v === undefined ? SETTINGS[name].default : v === 'on'
  }
  return out
}

export function settingName(name: string): SettingName {
  if (!Object.prototype.hasOwnProperty.call(SETTINGS, name)) throw new UserError(`Unknown setting ${JSON.stringify(name)}; settings: ${Object.keys(SETTINGS).join(', ')}.`, {hint: 'Run `clusterctl settings` to list them.'})
  return name as SettingName
}

export function settingValue(value: string): boolean {
  if (value === 'on' || value === 'off') return value === 'on'
  throw new UserError(`A setting is on or off, got ${JSON.stringify(value)}.`, {hint: 'Example: clusterctl settings consolidate on'})
}

export function writeSetting(store: Store, name: SettingName, on: boolean): void {
  writeMeta(store, `setting:${name}`, on ? 'on' : 'off')
}

/** The edge proxies' image (`clusterctl edge image`), kept in `meta` as `edge:image`; null: the default (core/edge/runner.ts DEFAULT_EDGE_IMAGE). */
export function readEdgeImage(store: Store): string | null {
  return readMeta(store, 'edge:image') ?? null
}

export function writeEdgeImage(store: Store, image: string): void {
  writeMeta(store, 'edge:image', image)
}

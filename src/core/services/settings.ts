/** Cluster settings (state/settings.ts): list them, or set one. */
import type {ServiceContext} from '../context.js'
import {readSettings, SETTINGS, settingName, type Settings, settingValue, writeSetting} from '../state/settings.js'

export interface SettingRow {
  name: string
  on: boolean
  default: boolean
  description: string
}

function rows(settings: Settings): SettingRow[] {
  return (Object.keys(SETTINGS) as Array<keyof Settings>).map((name) => ({name, on: settings[name], default: SETTINGS[name].default, description: SETTINGS[name].description}))
}

export function getSettings(ctx: Pick<ServiceContext, 'store'>): SettingRow[] {
  return rows(ctx.store.read(() => readSettings(ctx.store)))
}

/** Validates both words before writing anything. */
export function setSetting(ctx: Pick<ServiceContext, 'store'>, name: string, value: string): SettingRow[] {
  const key = settingName(name)
  const on = settingValue(value)
  ctx.store.write(() => writeSetting(ctx.store, key, on))
  return getSettings(ctx)
}

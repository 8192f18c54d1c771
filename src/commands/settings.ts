import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {UserError} from '../core/errors.js'
import {getSettings, type SettingRow, setSetting} from '../core/services/settings.js'

export default class Settings extends BaseCommand<typeof Settings> {
  static override summary = 'List the cluster settings, or turn one on or off.'
  static override description = 'Settings are kept in the state file and read by every pass (one-shot commands and the daemon). `consolidate`: when the cluster is quiet, move running service tasks, make-before-break and within the move budget, so that whole nodes empty; `schedule --dry-run` shows the planned moves and the node each frees.'
  static override examples = ['<%= config.bin %> settings', '<%= config.bin %> settings consolidate on', '<%= config.bin %> settings consolidate off --json']
  static override args = {
    name: Args.string({description: 'The setting (consolidate).'}),
    value: Args.string({description: 'on or off.'}),
  }

  public async run(): Promise<SettingRow[]> {
    const {name, value} = this.args
    if (name !== undefined && value === undefined) throw new UserError(`Setting ${name} needs a value, on or off.`, {hint: `clusterctl settings ${name} on`})
    const ctx = await this.services()
    const rows = name === undefined ? getSettings(ctx) : setSetting(ctx, name, value!)
    if (!this.jsonEnabled()) for (const r of rows) this.log(`${r.name.padEnd(12)} ${r.on ? 'on ' : 'off'}  (default ${r.default ? 'on' : 'off'})  ${r.description}`)
    return rows
  }
}

import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {setSuspended} from '../core/services/runs.js'

export default class Suspend extends BaseCommand<typeof Suspend> {
  static override summary = 'Stop a scheduled or dependent job from firing (runs in progress go on).'
  static override examples = ['<%= config.bin %> suspend nightly']
  static override args = {job: Args.string({description: 'Job name.', required: true})}

  public async run(): Promise<{job: string; suspended: boolean; changed: boolean}> {
    const result = await setSuspended(await this.services({ssh: false}), this.args.job, true)
    if (!this.jsonEnabled()) this.log(result.changed ? `Job ${this.args.job} suspended.` : `Job ${this.args.job} was already suspended.`)
    return {job: this.args.job, suspended: true, changed: result.changed}
  }
}

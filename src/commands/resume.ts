import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {setSuspended} from '../core/services/runs.js'

export default class Resume extends BaseCommand<typeof Resume> {
  static override summary = 'Let a suspended job fire again; the times missed meanwhile follow its catchUp policy (default: one run for the latest).'
  static override examples = ['<%= config.bin %> resume nightly']
  static override args = {job: Args.string({description: 'Job name.', required: true})}

  public async run(): Promise<{job: string; suspended: boolean; changed: boolean}> {
    const result = await setSuspended(await this.services({ssh: true}), this.args.job, false)
    if (!this.jsonEnabled()) this.log(result.changed ? `Job ${this.args.job} resumed.` : `Job ${this.args.job} was already active.`)
    return {job: this.args.job, suspended: false, changed: result.changed}
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {listJobRuns} from '../core/services/runs.js'
import {renderRunsTable, type RunJson, runToJson} from '../ui/presenters/runs.js'

export default class Runs extends BaseCommand<typeof Runs> {
  static override summary = 'History of the runs of scheduled and dependent jobs, newest first.'
  static override description = 'One line per run attempt: run id (job@scheduled time, #N for attempt N), trigger (schedule, parent, manual, retry), scheduled time, start, end, node, exit code, state (waiting, starting, running, succeeded, failed, skipped) and attempt.'
  static override examples = ['<%= config.bin %> runs', '<%= config.bin %> runs nightly --limit 5', '<%= config.bin %> runs nightly --json']
  static override args = {job: Args.string({description: 'Only this job\'s runs.'})}
  static override flags = {limit: Flags.integer({description: 'At most this many runs (default 50).', min: 1})}

  public async run(): Promise<RunJson[]> {
    const runs = listJobRuns(await this.services(), {...(this.args.job ? {job: this.args.job} : {}), ...(this.flags.limit === undefined ? {} : {limit: this.flags.limit})})
    if (!this.jsonEnabled()) this.log(renderRunsTable(runs))
    return runs.map(runToJson)
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import type {PassReport} from '../core/reconcile/report.js'
import {stopJobs} from '../core/services/jobs.js'
import {exitCodeOfPass, jobNamesOf, waitFlags, waitMsOf} from '../cli/job-command.js'
import {renderPass} from '../ui/presenters/pass.js'

export default class Stop extends BaseCommand<typeof Stop> {
  static override summary = 'Stop every instance of one or more jobs (SIGTERM, then SIGKILL after a grace period) and keep the jobs.'
  static override description = 'Start them again with `clusterctl scale JOB N` or `clusterctl apply`. Every name must exist (else nothing changes, exit 3). One pass over these jobs alone: only the nodes that run them are reached, other jobs are left as they are.'
  static override examples = ['<%= config.bin %> stop web', '<%= config.bin %> stop web api', '<%= config.bin %> stop --selector tier=batch']
  static override strict = false
  static override usage = ['<%= command.id %> NAME...', '<%= command.id %> --selector LABEL=VALUE [NAME...]']
  static override flags = {...waitFlags, selector: Flags.string({char: 'l', description: 'Also every job whose labels include LABEL=VALUE.'})}
  static override args = {job: Args.string({description: 'Job name(s).'})}

  public async run(): Promise<{job: string; jobs: string[]; pass: PassReport}> {
    const {argv} = await this.parse(Stop)
    const waitMs = waitMsOf(this.flags.timeout)
    const result = await stopJobs(await this.services({ssh: true}), jobNamesOf(argv, this.flags.selector), {waitMs})
    const names = result.jobs.map((j) => j.name)
    process.exitCode = exitCodeOfPass(result.pass, names)
    if (!this.jsonEnabled()) this.log(renderPass(result.pass, this.interactive))
    return {job: names[0]!, jobs: names, pass: result.pass}
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {UserError} from '../core/errors.js'
import type {PassReport} from '../core/reconcile/report.js'
import {scaleJobs} from '../core/services/jobs.js'
import {instancesProblem} from '../core/spec/validate.js'
import {exitCodeOfPass, jobNamesOf, waitFlags, waitMsOf} from '../cli/job-command.js'
import {renderPass} from '../ui/presenters/pass.js'

export default class Scale extends BaseCommand<typeof Scale> {
  static override summary = 'Set the number of instances of one or more jobs, and converge in one pass over them.'
  static override description = 'The last argument is the count: `scale web api 3`. Scaling down stops the highest-numbered instances. Every name must exist (else nothing changes, exit 3). The pass acts on these jobs alone: other jobs\' pending work is left as it is.'
  static override examples = ['<%= config.bin %> scale web 5', '<%= config.bin %> scale web 0', '<%= config.bin %> scale web api 2', '<%= config.bin %> scale --selector tier=web 3']
  static override strict = false
  static override usage = ['<%= command.id %> NAME... COUNT', '<%= command.id %> --selector LABEL=VALUE [NAME...] COUNT']
  static override flags = {...waitFlags, selector: Flags.string({char: 'l', description: 'Also every job whose labels include LABEL=VALUE.'})}
  static override args = {job: Args.string({description: 'Job name(s), then the instance count (>= 0).', required: true})}

  public async run(): Promise<{job: string; jobs: string[]; instances: number; pass: PassReport}> {
    const {argv} = await this.parse(Scale)
    const words = argv as string[]
    const count = words.at(-1)!
    const problem = /^\d+$/.test(count) ? instancesProblem(Number(count), count) : `(the last argument) must be a whole number >= 0, got ${JSON.stringify(count)}`
    if (problem) throw new UserError(`The instance count ${problem}.`, {hint: 'Usage: clusterctl scale NAME... COUNT, or clusterctl scale --selector LABEL=VALUE COUNT.'})
    const waitMs = waitMsOf(this.flags.timeout)
    const result = await scaleJobs(await this.services({ssh: true}), jobNamesOf(words.slice(0, -1), this.flags.selector), Number(count), {waitMs})
    const names = result.jobs.map((j) => j.name)
    process.exitCode = exitCodeOfPass(result.pass, names)
    if (!this.jsonEnabled()) this.log(renderPass(result.pass, this.interactive))
    return {job: names[0]!, jobs: names, instances: Number(count), pass: result.pass}
  }
}

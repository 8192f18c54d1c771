import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import type {PassReport} from '../core/reconcile/report.js'
import {removeJobs} from '../core/services/jobs.js'
import {volumeViews, wipeJobVolumes} from '../core/services/volumes.js'
import {exitCodeOfPass, jobNamesOf, waitFlags, waitMsOf} from '../cli/job-command.js'
import {renderPass} from '../ui/presenters/pass.js'

export default class Rm extends BaseCommand<typeof Rm> {
  static override summary = 'Stop every instance of one or more jobs and remove them.'
  static override description = 'A job that other jobs run after (--after) or use (uses) is refused unless --force; with --force, those jobs no longer wait for it, and their containers started later get no address for it. Every name must exist (else nothing changes, exit 3). One pass over these jobs alone: only the nodes that run them are reached. Its local volumes are kept (a job applied again under its name gets them back) unless --wipe-volumes; `clusterctl volumes` lists them.'
  static override examples = ['<%= config.bin %> rm web', '<%= config.bin %> rm web api', '<%= config.bin %> rm --selector tier=batch', '<%= config.bin %> rm extract --force']
  static override strict = false
  static override usage = ['<%= command.id %> NAME...', '<%= command.id %> --selector LABEL=VALUE [NAME...]']
  static override args = {job: Args.string({description: 'Job name(s).'})}
  static override flags = {...waitFlags, selector: Flags.string({char: 'l', description: 'Also every job whose labels include LABEL=VALUE.'}), force: Flags.boolean({description: 'Remove it even when other jobs run after it or use it.'}), 'wipe-volumes': Flags.boolean({description: 'Also remove its local volumes and delete their data on their nodes.'})}

  public async run(): Promise<{removed: string; removedJobs: string[]; pass: PassReport; orphanedChildren: string[]; wipedVolumes: string[]; keptVolumes: string[]}> {
    const {argv} = await this.parse(Rm)
    const waitMs = waitMsOf(this.flags.timeout)
    const ctx = await this.services({ssh: true})
    const result = await removeJobs(ctx, jobNamesOf(argv, this.flags.selector), {force: this.flags.force, waitMs})
    const names = result.removed.map((j) => j.name)
    const wipedVolumes = this.flags['wipe-volumes'] ? await wipeJobVolumes(ctx, names) : []
    const keptVolumes = volumeViews(ctx).filter((v) => v.volume.kind === 'local' && names.includes(v.volume.jobName ?? '')).map((v) => v.volume.name)
    process.exitCode = exitCodeOfPass(result.pass, names)
    if (!this.jsonEnabled()) {
      this.log(renderPass(result.pass, this.interactive))
      this.log(`Removed job${names.length === 1 ? '' : 's'} ${names.join(', ')}.`)
      if (wipedVolumes.length > 0) this.log(`Wiped volume${wipedVolumes.length === 1 ? '' : 's'} ${wipedVolumes.join(', ')}.`)
      if (keptVolumes.length > 0) this.log(`Kept volume${keptVolumes.length === 1 ? '' : 's'} ${keptVolumes.join(', ')} (\`clusterctl volume rm NAME --wipe\` removes one, \`rm --wipe-volumes\` all of a job's).`)
      if (result.orphanedChildren.length > 0) this.log(`${result.orphanedChildren.join(', ')} no longer wait${result.orphanedChildren.length === 1 ? 's' : ''} for ${names.length === 1 ? 'it' : 'them'}.`)
    }

    return {removed: names[0]!, removedJobs: names, pass: result.pass, orphanedChildren: result.orphanedChildren, wipedVolumes, keptVolumes}
  }
}

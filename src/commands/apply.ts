import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {readInput} from '../cli/read-input.js'
import type {JobSpec} from '../core/model/job.js'
import type {PassReport} from '../core/reconcile/report.js'
import type {RolloutStep} from '../core/reconcile/rollout.js'
import {applySpecs} from '../core/services/jobs.js'
import {parseSpecText} from '../core/spec/parse.js'
import {exitCodeOfPass, waitFlags, waitMsOf} from '../cli/job-command.js'
import {renderRolloutPlan} from '../ui/presenters/deployments.js'
import {renderPass} from '../ui/presenters/pass.js'

export default class Apply extends BaseCommand<typeof Apply> {
  static override summary = 'Create or update jobs from spec files (YAML or JSON, one or many documents), then converge in one pass.'
  static override description = 'The format is documented in docs/spec.md; Chronos job JSON (one job or a list, as exported; docs/scheduled-jobs.md) and Marathon app, app list and group JSON (docs/marathon.md) are read too, with a warning per field they do not support. Every document is validated before anything changes: one error, and nothing is applied. An unchanged spec changes nothing; a changed one is a new deployment (version) of the job, rolled out within its upgrade bounds (default: one extra instance at a time, make-before-break, each new one healthy for 10 s before its old one stops), rolled back when it fails: this command runs its first pass; the daemon, or `clusterctl rollout status JOB`, drives the rest (docs/deployments.md).'
  static override examples = ['<%= config.bin %> apply -f web.yaml', 'cat jobs.json | <%= config.bin %> apply -f -', '<%= config.bin %> apply -f web.yaml --no-start', '<%= config.bin %> apply -f chronos-jobs.json --default-image localhost/tools:1', '<%= config.bin %> apply -f marathon-group.json', '<%= config.bin %> apply -f web.yaml --dry-run']
  static override flags = {
    ...waitFlags,
    file: Flags.string({char: 'f', description: 'Spec file, or - for standard input (repeatable).', multiple: true, required: true}),
    'no-start': Flags.boolean({description: 'Only record the specs; the next `clusterctl schedule` converges.'}),
    'dry-run': Flags.boolean({description: 'Record nothing: print what would change and, for each new version, its rollout plan (each step: how many start, how many stop, the fewest available).'}),
    'default-image': Flags.string({description: 'Image for Chronos jobs and Marathon apps without a container image (their command runs in it).'}),
  }

  public async run(): Promise<{jobs: Array<{name: string; change: string; what: string[]; rollout?: RolloutStep[]; servicePort: number | null}>; pass: PassReport | null}> {
    const waitMs = waitMsOf(this.flags.timeout)
    const specs: JobSpec[] = []
    const warnings: string[] = []
    const options = {...(this.flags['default-image'] ? {defaultImage: this.flags['default-image']} : {}), warn: (m: string) => warnings.push(m)}
    for (const file of this.flags.file) specs.push(...parseSpecText(await readInput(file), file === '-' ? '<stdin>' : file, options))
    for (const w of warnings) this.warn(w)
    const dryRun = this.flags['dry-run']
    const ctx = await this.services({ssh: !this.flags['no-start'] && !dryRun})
    const result = await applySpecs(ctx, specs, {noStart: this.flags['no-start'], waitMs, ...(dryRun ? {dryRun} : {})})
    process.exitCode = exitCodeOfPass(result.pass, result.jobs.map((j) => j.name))
    if (!this.jsonEnabled()) {
      for (const j of result.jobs) {
        this.log(`${dryRun ? 'would be ' : ''}${j.name}: ${j.change}${j.what.length ? ` (${j.what.join('; ')})` : ''}${j.change === 'created' && j.servicePort !== null ? ` (service port ${j.servicePort})` : ''}`)
        if (dryRun && j.rollout) this.log(renderRolloutPlan(j.rollout))
      }

      if (result.pass) this.log(renderPass(result.pass, this.interactive))
    }

    return result
  }
}

import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {readInput} from '../cli/read-input.js'
import type {JobSpec} from '../core/model/job.js'
import type {PassReport} from '../core/reconcile/report.js'
import {applySpecs} from '../core/services/jobs.js'
import {parseSpecText} from '../core/spec/parse.js'
import {exitCodeOfPass, waitFlags, waitMsOf} from '../cli/job-command.js'
import {renderPass} from '../ui/presenters/pass.js'

export default class Apply extends BaseCommand<typeof Apply> {
  static override summary = 'Create or update jobs from spec files (YAML or JSON, one or many documents), then converge in one pass.'
  static override description = 'The format is documented in docs/spec.md; Chronos job JSON (one job or a list, as exported) is read too (docs/scheduled-jobs.md), with a warning per field it does not support. Every document is validated before anything changes: one error, and nothing is applied. An unchanged spec changes nothing; a changed one replaces its containers make-before-break (a new container starts before the old one stops).'
  static override examples = ['<%= config.bin %> apply -f web.yaml', 'cat jobs.json | <%= config.bin %> apply -f -', '<%= config.bin %> apply -f web.yaml --no-start', '<%= config.bin %> apply -f chronos-jobs.json --default-image localhost/tools:1']
  static override flags = {
    ...waitFlags,
    file: Flags.string({char: 'f', description: 'Spec file, or - for standard input (repeatable).', multiple: true, required: true}),
    'no-start': Flags.boolean({description: 'Only record the specs; the next `clusterctl schedule` converges.'}),
    'default-image': Flags.string({description: 'Image for Chronos jobs without a container (their command runs in it).'}),
  }

  public async run(): Promise<{jobs: Array<{name: string; change: string; what: string[]}>; pass: PassReport | null}> {
    const waitMs = waitMsOf(this.flags.timeout)
    const specs: JobSpec[] = []
    const warnings: string[] = []
    const options = {...(this.flags['default-image'] ? {defaultImage: this.flags['default-image']} : {}), warn: (m: string) => warnings.push(m)}
    for (const file of this.flags.file) specs.push(...parseSpecText(await readInput(file), file === '-' ? '<stdin>' : file, options))
    for (const w of warnings) this.warn(w)
    const ctx = await this.services({ssh: !this.flags['no-start']})
    const result = await applySpecs(ctx, specs, {noStart: this.flags['no-start'], waitMs})
    process.exitCode = exitCodeOfPass(result.pass, result.jobs.map((j) => j.name))
    if (!this.jsonEnabled()) {
      for (const j of result.jobs) this.log(`${j.name}: ${j.change}${j.what.length ? ` (${j.what.join('; ')})` : ''}`)
      if (result.pass) this.log(renderPass(result.pass, this.interactive))
    }

    return result
  }
}

import fs from 'node:fs'
import path from 'node:path'

import {Args, Flags} from '@oclif/core'
import YAML from 'yaml'

import {BaseCommand} from '../cli/base-command.js'
import {DEFAULT_MHZ_PER_CPU, type ExportResult, type ExportTarget} from '../core/export/translate.js'
import {exportStoredJobs} from '../core/services/export.js'
import {renderTable} from '../ui/table.js'

export default class Export extends BaseCommand<typeof Export> {
  static override summary = 'Translate jobs to Nomad job JSON or Kubernetes manifests, with a report of what could not be carried over.'
  static override description = 'Nomad: one job JSON per job (what `nomad job run -json` takes), the podman driver, cpu in MHz (--mhz-per-cpu). Kubernetes: a Deployment, PodDisruptionBudget and Service per service, a Job or CronJob per batch or scheduled job, and a PriorityClass, as YAML documents. The report names every field that was approximated or dropped, and why (dependency graphs, LIKE/UNLIKE regexes and DRF teams have no equivalent). Without --out the documents go to stdout and the report to stderr. --strict exits 4 when anything was dropped.'
  static override examples = ['<%= config.bin %> export --to kubernetes --out k8s/', '<%= config.bin %> export web api --to nomad --strict']
  static override strict = false
  static override args = {jobs: Args.string({description: 'Jobs to export (default: every job).'})}
  static override flags = {
    to: Flags.string({description: 'Target.', options: ['nomad', 'kubernetes'], required: true}),
    out: Flags.string({description: 'Write one file per job into this folder (NAME.nomad.json or NAME.yaml).'}),
    strict: Flags.boolean({description: 'Exit 4 when a field was dropped.'}),
    'mhz-per-cpu': Flags.integer({description: `Nomad: MHz per cpu (default ${DEFAULT_MHZ_PER_CPU}).`, min: 1}),
  }

  public async run(): Promise<ExportResult & {files: string[]}> {
    const {argv} = await this.parse(Export)
    const target = this.flags.to as ExportTarget
    const result = exportStoredJobs(await this.services({ssh: false}), argv as string[], target, {...(this.flags['mhz-per-cpu'] ? {mhzPerCpu: this.flags['mhz-per-cpu']} : {})})
    const text = (docs: Array<Record<string, unknown>>): string => (target === 'nomad' ? `${JSON.stringify(docs[0], null, 2)}\n` : docs.map((d) => YAML.stringify(d, {aliasDuplicateObjects: false})).join('---\n'))
    const files: string[] = []
    if (this.flags.out) {
      fs.mkdirSync(this.flags.out, {recursive: true})
      for (const j of result.jobs) {
        const file = path.join(this.flags.out, `${j.job}.${target === 'nomad' ? 'nomad.json' : 'yaml'}`)
        fs.writeFileSync(file, text(j.documents))
        files.push(file)
      }
    } else if (!this.jsonEnabled()) process.stdout.write(result.jobs.map((j) => text(j.documents)).join(target === 'nomad' ? '' : '---\n'))

    const notable = result.notes.filter((n) => n.status !== 'translated')
    if (!this.jsonEnabled()) {
      const report = notable.length === 0 ? 'Every field translated.' : renderTable(['JOB', 'FIELD', 'STATUS', 'WHY'], notable.map((n) => [n.job, n.field, n.status, n.why ?? '']))
      const where = files.length ? `Wrote ${files.join(', ')}.\n` : ''
      if (this.flags.out) this.log(`${where}${report}`)
      else process.stderr.write(`${report}\n`)
    }

    if (this.flags.strict && result.notes.some((n) => n.status === 'dropped')) process.exitCode = 4
    return {...result, files}
  }
}

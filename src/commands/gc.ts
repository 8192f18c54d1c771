import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {durationFlag} from '../cli/flag-parsers.js'
import {type GcReport, type RetentionOverrides, runGc} from '../core/services/history.js'
import {formatBytes} from '../core/model/resources.js'

const ageFlag = (what: string, fallback: string) => Flags.string({description: `Delete ${what} older than this (saved setting, else ${fallback}; at least 1h).`})
const keepFlag = (what: string, fallback: string) => Flags.integer({description: `Keep at most this many ${what} (saved setting, else ${fallback}).`, min: 1})

export default class Gc extends BaseCommand<typeof Gc> {
  static override summary = 'Delete old history now: events, ended tasks and ended runs, by age and count.'
  static override description = 'The daemon does the same every hour with the saved settings. Never deleted: live tasks, the latest ended task of each instance (restart counts and back-off count from it), open runs and runs waiting for a retry, and each job\'s latest run. Freed space is reused by the state file, which therefore stops growing.'
  static override examples = ['<%= config.bin %> gc', '<%= config.bin %> gc --events-age 3d --events-keep 50000 --save']
  static override flags = {
    'events-age': ageFlag('events', '7d'),
    'events-keep': keepFlag('events', '200000'),
    'tasks-age': ageFlag('ended tasks', '1d'),
    'tasks-keep': keepFlag('ended tasks', '20000'),
    'runs-age': ageFlag('ended runs', '30d'),
    'runs-keep': keepFlag('ended runs', '20000'),
    save: Flags.boolean({description: 'Save these settings for the daemon\'s hourly collection and later runs.'}),
  }

  public async run(): Promise<GcReport> {
    const f = this.flags
    const age = (flag: string, v: string | undefined) => (v === undefined ? {} : {maxAgeMs: durationFlag(`--${flag}`, v, '7d, 12h or 90m', 1)})
    const keep = (v: number | undefined) => (v === undefined ? {} : {maxCount: v})
    const overrides: RetentionOverrides = {
      events: {...age('events-age', f['events-age']), ...keep(f['events-keep'])},
      tasks: {...age('tasks-age', f['tasks-age']), ...keep(f['tasks-keep'])},
      runs: {...age('runs-age', f['runs-age']), ...keep(f['runs-keep'])},
    }
    const report = runGc(await this.services({ssh: false}), overrides, {save: f.save})
    const {events, tasks, runs} = report.deleted
    if (!this.jsonEnabled()) this.log(`Deleted ${events} event${events === 1 ? '' : 's'}, ${tasks} ended task${tasks === 1 ? '' : 's'}, ${runs} ended run${runs === 1 ? '' : 's'}${report.fileBytes === null ? '' : ` (state file ${formatBytes(report.fileBytes)})`}${report.saved ? '; settings saved' : ''}.`)
    return report
  }
}

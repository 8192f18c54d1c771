import fs from 'node:fs'

import {BaseCommand} from '../cli/base-command.js'
import {stateSchema} from '../core/services/state-file.js'

export default class Init extends BaseCommand<typeof Init> {
  static override summary = 'Create the state file of a new cluster (or check an existing one).'
  static override description = 'The state file is created only here and by the first `add-node`: every other command refuses a --db or CLUSTERCTL_DB path that does not exist (exit 3), and listings show an empty cluster without creating anything, so a typo never becomes a new empty cluster. The file is made 0600 in a 0700 folder. Running init on an existing state file changes nothing.'
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init --db ./lab.db', 'CLUSTERCTL_DB=/srv/cluster/state.db <%= config.bin %> init --json']
  static override stateFile = 'create' as const

  public async run(): Promise<{file: string; created: boolean; schema: number}> {
    const file = this.stateFilePath
    const created = !fs.existsSync(file) || fs.statSync(file).size === 0
    const schema = stateSchema(await this.services())
    if (!this.jsonEnabled()) this.log(created ? `Created the state file ${file} (schema ${schema}).` : `The state file ${file} exists (schema ${schema}); nothing changed.`)
    return {file, created, schema}
  }
}

import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {ExitCode, UserError} from '../core/errors.js'
import type {WhatIfResult} from '../core/reconcile/what-if.js'
import {whatIfDown, whatIfEachNode} from '../core/services/what-if.js'
import {renderNMinusOne, renderWhatIf} from '../ui/presenters/what-if.js'

export default class WhatIf extends BaseCommand<typeof WhatIf> {
  static override summary = 'Would everything still fit if these nodes died? Runs the real scheduler on a copy of the state.'
  static override description = `--down NODE[,NODE...]: per task on those nodes, where it would be replaced or why it could not be (the scheduler's own reasons), and each service's running count after the loss against its health bound. Local volumes count as in a pass: their sizes stay reserved on their nodes, and a task whose local volume is on a lost node waits for it (listed, not counted as unplaced). --n-1: one line per node. Reads the state file only. Exit 0 when everything fits, 4 when something would not.`
  static override examples = ['<%= config.bin %> what-if --down web-1', '<%= config.bin %> what-if --down web-1,web-2 --json', '<%= config.bin %> what-if --n-1']
  static override flags = {
    down: Flags.string({description: 'Nodes to lose, comma-separated.'}),
    'n-1': Flags.boolean({description: 'The loss of each node on its own.'}),
  }

  public async run(): Promise<WhatIfResult | WhatIfResult[]> {
    const {down} = this.flags
    const each = this.flags['n-1']
    if ((down === undefined) === !each) throw new UserError('Give --down NODE[,NODE...] or --n-1 (one of them).')
    const ctx = await this.services()
    if (each) {
      const results = whatIfEachNode(ctx)
      if (!this.jsonEnabled()) this.log(renderNMinusOne(results, this.interactive))
      if (results.some((r) => !r.fits)) process.exitCode = ExitCode.unsatisfied
      return results
    }

    const names = down!.split(',').map((s) => s.trim()).filter(Boolean)
    const result = whatIfDown(ctx, names)
    if (!this.jsonEnabled()) this.log(renderWhatIf(result, this.interactive))
    if (!result.fits) process.exitCode = ExitCode.unsatisfied
    return result
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {ExitCode, UserError} from '../../core/errors.js'
import {getNode, getNodes, refreshInventory} from '../../core/services/nodes.js'
import {nodeToJson, type NodeJson, renderInventory} from '../../ui/presenters/nodes.js'
import {paint} from '../../ui/style.js'

export interface InventoryJson {
  nodes: Array<NodeJson & {fresh: boolean; error: {code: string; message: string} | null}>
}

export default class NodeInventory extends BaseCommand<typeof NodeInventory> {
  static override summary = 'Probe nodes again and show their hardware inventory.'
  static override description = 'Probes over one round trip per node (in parallel with --all), stores the new inventory and detected capacity (declared --resources still win). With --cached, shows the stored inventory without contacting the nodes. An unreachable node shows its stored inventory and makes the command exit 5.'
  static override examples = ['<%= config.bin %> node inventory web-1', '<%= config.bin %> node inventory --all --json']
  static override args = {name: Args.string({description: 'Node name.'})}
  static override flags = {
    all: Flags.boolean({description: 'Every node.'}),
    cached: Flags.boolean({description: 'Show the stored inventory; do not contact the nodes.'}),
  }

  public async run(): Promise<InventoryJson> {
    const {name} = this.args
    const {all, cached} = this.flags
    if (!name && !all) throw new UserError('Name a node, or pass --all: clusterctl node inventory NAME.')
    if (name && all) throw new UserError('Give a node name or --all, not both.')
    const ctx = await this.services({ssh: true})
    const results = cached
      ? (all ? getNodes(ctx) : [getNode(ctx, name!)]).map((node) => ({node, fresh: false, error: null as Error | null}))
      : await refreshInventory(ctx, all ? 'all' : [name!])

    const failed = results.filter((r) => r.error)
    if (failed.length > 0) {
      const codes = new Set(failed.map((f) => (f.error as Error & {exitCode?: number}).exitCode ?? ExitCode.failed))
      process.exitCode = codes.size === 1 ? [...codes][0]! : ExitCode.failed
    }

    if (!this.jsonEnabled()) {
      const now = this.clock.now()
      this.log(results.map((r) => renderInventory(r.node, now, this.interactive)).join('\n\n'))
      for (const f of failed) this.logToStderr(`${paint.warn('Stale:', process.stderr.isTTY === true)} ${f.error!.message} (showing the inventory stored at ${new Date(f.node.inventoriedAt).toISOString()}).`)
    }

    return {
      nodes: results.map((r) => ({
        ...nodeToJson(r.node, {inventory: true}),
        fresh: r.fresh,
        error: r.error ? {code: (r.error as Error & {code?: string}).code ?? 'failed', message: r.error.message} : null,
      })),
    }
  }
}

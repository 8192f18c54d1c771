import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {ExitCode} from '../../core/errors.js'
import {doctorNodes, doctorVerdict} from '../../core/services/health.js'
import {type ConditionJson, conditionToJson, renderDoctor} from '../../ui/presenters/health.js'

export interface DoctorJson {
  /** 0 healthy, 1 warnings, 2 critical (the exit code, unless a node could not be probed: 5). */
  verdict: 'healthy' | 'warnings' | 'critical'
  nodes: Array<{name: string; probed: boolean; probeMs: number | null; error: string | null; conditions: ConditionJson[]}>
}

export default class NodeDoctor extends BaseCommand<typeof NodeDoctor> {
  static override summary = 'Run the health probe on a node (or all) now and say what is wrong and what to do.'
  static override description = `One round trip per node (in parallel): memory and pressure, OOM kills, disk space and inodes of / and the runtime's store, read-only filesystems, the kernel log (I/O, filesystem, hung task, machine check, GPU Xid), EDAC, temperatures, md RAID, SMART, NVIDIA GPUs, clock sync, the runtime answering, PID/fd/conntrack pressure. The findings are recorded as the node's conditions (as the daemon's probe does, every 30 s).
Exit 0 healthy, 1 warnings, 2 critical; 5 when a node could not be probed. See docs/health.md.`
  static override examples = ['<%= config.bin %> node doctor web-1', '<%= config.bin %> node doctor --json']
  static override args = {name: Args.string({description: 'Node name (default: every node).'})}
  static override flags = {
    all: Flags.boolean({description: 'Every node (the default without a name).'}),
  }

  public async run(): Promise<DoctorJson> {
    const ctx = await this.services({ssh: true})
    const results = await doctorNodes(ctx, this.args.name && !this.flags.all ? [this.args.name] : 'all')
    const verdict = doctorVerdict(results)
    if (!this.jsonEnabled()) this.log(results.length === 0 ? 'No nodes yet.' : renderDoctor(results, this.clock.now(), this.interactive))
    process.exitCode = results.some((r) => r.error) ? ExitCode.unreachable : verdict
    return {
      verdict: verdict === 2 ? 'critical' : verdict === 1 ? 'warnings' : 'healthy',
      nodes: results.map((r) => ({name: r.node.name, probed: r.error === null, probeMs: r.probeMs, error: r.error?.message ?? null, conditions: r.conditions.map(conditionToJson)})),
    }
  }
}

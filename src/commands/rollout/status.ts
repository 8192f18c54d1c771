import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag} from '../../cli/flag-parsers.js'
import {ExitCode} from '../../core/errors.js'
import {followRollout, rolloutStatus} from '../../core/services/deployments.js'
import {deploymentToJson, type DeploymentJson, rolloutOutcome, statusLine} from '../../ui/presenters/deployments.js'

export default class RolloutStatus extends BaseCommand<typeof RolloutStatus> {
  static override summary = "Follow a job's rollout until it ends: exit 0 when it succeeded, 1 when it failed or rolled back, 4 when its canaries wait for `rollout promote`."
  static override description = "Without a daemon, this command runs the job's passes itself (under the controller lease) until the rollout ends; with one, it watches the daemon's passes. A failed version that rolls back is followed until the rollback ends too. A paused rollout ends the command (exit 1). See docs/deployments.md."
  static override examples = ['<%= config.bin %> rollout status web', '<%= config.bin %> rollout status web --no-follow --json']
  static override flags = {
    timeout: Flags.string({description: 'Give up following after this long (exit 1; the rollout goes on).', default: '30m'}),
    'no-follow': Flags.boolean({description: 'Print the current state once and exit (0 when the newest version succeeded, 1 when it failed or paused, 4 while it rolls out; its outcome is `waiting` while its canaries wait for `rollout promote`).'}),
  }

  static override args = {job: Args.string({description: 'Job name.', required: true})}

  public async run(): Promise<{job: string; version: number; outcome: string; updated: number; desired: number; deployment: DeploymentJson | null}> {
    const ctx = await this.services({ssh: !this.flags['no-follow']})
    if (this.flags['no-follow']) {
      const s = rolloutStatus(ctx, this.args.job)
      const state = rolloutOutcome(s)
      process.exitCode = state === 'succeeded' || state === 'none' ? ExitCode.ok : state === 'running' || state === 'waiting' ? ExitCode.unsatisfied : ExitCode.failed
      if (!this.jsonEnabled()) this.log(statusLine(s))
      if (!this.jsonEnabled() && state === 'waiting') this.log(this.waitingLine(s.deployment!.version))
      return {job: s.job, version: s.deployment?.version ?? 0, outcome: state, updated: s.updated, desired: s.desired, deployment: s.deployment ? deploymentToJson(s.deployment) : null}
    }

    let last = ''
    const result = await followRollout(ctx, this.args.job, {
      timeoutMs: durationFlag('--timeout', this.flags.timeout, '30m, 90s or 1h', 1),
      onUpdate: (s) => {
        const line = statusLine(s)
        if (line !== last && !this.jsonEnabled()) this.log(line)
        last = line
      },
    })
    const s = result.status
    process.exitCode = result.outcome === 'succeeded' || result.outcome === 'none' ? ExitCode.ok : result.outcome === 'waiting' ? ExitCode.unsatisfied : ExitCode.failed
    if (!this.jsonEnabled()) {
      if (result.outcome === 'none') this.log(statusLine(s))
      else if (result.outcome === 'waiting') this.log(this.waitingLine(result.version))
      else this.log(`version ${result.version} ${result.outcome}${s.deployment && s.deployment.version !== result.version ? `; now version ${s.deployment.version} (${s.deployment.cause}) ${s.deployment.state}` : ''}`)
    }

    return {job: s.job, version: result.version, outcome: result.outcome, updated: s.updated, desired: s.desired, deployment: s.deployment ? deploymentToJson(s.deployment) : null}
  }

  private waitingLine(version: number): string {
    return `version ${version}: its canaries are available; continue with \`clusterctl rollout promote ${this.args.job}\` (or go back with \`rollout undo\`).`
  }
}

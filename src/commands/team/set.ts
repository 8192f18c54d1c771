import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {UserError} from '../../core/errors.js'
import {parseResourceList} from '../../core/model/resources.js'
import {setTeam, teamViews} from '../../core/services/teams.js'
import {quotaText, teamToJson, type TeamJson} from '../../ui/presenters/teams.js'

export default class TeamSet extends BaseCommand<typeof TeamSet> {
  static override summary = 'Create or change a team: its weight and its quota.'
  static override description = 'A team of weight 2 is entitled to twice the dominant share of a team of weight 1. A quota is a hard limit on what the team\'s running tasks hold together: work beyond it stays pending ("team data over quota: cpus 12/12"). --quota replaces the whole quota (dimensions left out are unlimited); --quota none removes it. Jobs join a team with `--team` or `team:` in their spec.'
  static override examples = ['<%= config.bin %> team set data --weight 2 --quota cpus=12,mem=48Gi', '<%= config.bin %> team set web --quota none']
  static override args = {name: Args.string({description: 'Team name.', required: true})}
  static override flags = {
    weight: Flags.string({description: 'Weight, a number above 0 (default 1).'}),
    quota: Flags.string({description: 'cpus=N,mem=SIZE,disk=SIZE,gpus=N (any of them), or none.'}),
  }

  public async run(): Promise<TeamJson> {
    const {weight, quota} = this.flags
    const w = weight === undefined ? undefined : Number(weight)
    if (w !== undefined && (weight!.trim() === '' || Number.isNaN(w))) throw new UserError(`--weight must be a number above 0, got ${JSON.stringify(weight)}.`, {hint: `e.g. \`clusterctl team set ${this.args.name} --weight 2\``})
    const q = quota === undefined ? undefined : quota.trim() === 'none' ? null : parseResourceList(quota, '--quota')
    const ctx = await this.services({ssh: false})
    const {team, created} = setTeam(ctx, this.args.name, {...(w === undefined ? {} : {weight: w}), ...(q === undefined ? {} : {quota: q})})
    const view = teamViews(ctx).find((v) => v.team.name === team.name)!
    if (!this.jsonEnabled()) this.log(`Team ${team.name} ${created ? 'created' : 'updated'}: weight ${team.weight}, quota ${quotaText(view)}.`)
    return teamToJson(view)
  }
}

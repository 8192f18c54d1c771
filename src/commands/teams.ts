import {BaseCommand} from '../cli/base-command.js'
import {teamViews} from '../core/services/teams.js'
import {renderTeamsTable, teamToJson, type TeamJson} from '../ui/presenters/teams.js'

export default class Teams extends BaseCommand<typeof Teams> {
  static override summary = 'List teams: weight, what they hold, their dominant share and quota use.'
  static override description = 'Pending work is placed in weighted Dominant Resource Fairness order: the team with the lowest dominant share divided by its weight goes next (ties: fewer running tasks, then the name). Work beyond a quota stays pending. See `clusterctl team set`.'
  static override stateFile = 'empty' as const
  static override examples = ['<%= config.bin %> teams', '<%= config.bin %> teams --json']

  public async run(): Promise<TeamJson[]> {
    const views = teamViews(await this.services())
    if (!this.jsonEnabled()) this.log(renderTeamsTable(views))
    return views.map((v) => teamToJson(v))
  }
}

import {BaseCommand} from '../cli/base-command.js'
import {volumeViews} from '../core/services/volumes.js'
import {renderVolumesTable, volumeToJson, type VolumeJson} from '../ui/presenters/volumes.js'

export default class Volumes extends BaseCommand<typeof Volumes> {
  static override summary = 'List volumes: name, kind, node, size, used, job and instance, state.'
  static override description = 'A local volume (spec `volumes: ["data:/data"]`, run -v data:/data) is a directory on one node, one per instance (data-0, data-1...); its size stays reserved on that node\'s disk and its task runs only there. USED is what the last observation of its node measured. STATE: in-use, idle (no task: stopped or scaled to 0), unplaced (no task placed yet), or why its task is blocked. See docs/volumes.md.'
  static override stateFile = 'empty' as const
  static override examples = ['<%= config.bin %> volumes', '<%= config.bin %> volumes --json']

  public async run(): Promise<VolumeJson[]> {
    const views = volumeViews(await this.services())
    if (!this.jsonEnabled()) this.log(renderVolumesTable(views))
    return views.map((v) => volumeToJson(v))
  }
}

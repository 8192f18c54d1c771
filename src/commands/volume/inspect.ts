import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {inspectVolume} from '../../core/services/volumes.js'
import {renderVolume, volumeToJson, type VolumeJson} from '../../ui/presenters/volumes.js'

export default class VolumeInspect extends BaseCommand<typeof VolumeInspect> {
  static override summary = 'Show one volume: its node, size, use, job, tasks and state (exit 3 when there is none of that name).'
  static override examples = ['<%= config.bin %> volume inspect data-0', '<%= config.bin %> volume inspect data-0 --json']
  static override args = {name: Args.string({description: 'Volume name (a local volume: NAME-INSTANCE, e.g. data-0).', required: true})}

  public async run(): Promise<VolumeJson> {
    const view = inspectVolume(await this.services(), this.args.name)
    if (!this.jsonEnabled()) this.log(renderVolume(view))
    return volumeToJson(view)
  }
}

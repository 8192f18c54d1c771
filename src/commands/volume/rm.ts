import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {removeVolume} from '../../core/services/volumes.js'
import {volumeToJson, type VolumeJson} from '../../ui/presenters/volumes.js'

export default class VolumeRm extends BaseCommand<typeof VolumeRm> {
  static override summary = 'Remove a volume: refused while a task uses it (exit 2). Its data stays on its node unless --wipe.'
  static override description = 'Without --wipe the record goes and the disk it reserved is free; the directory stays on the node. With --wipe the directory is deleted first (its node must answer, else nothing changes). An instance of its job that starts later gets a new, empty volume.'
  static override examples = ['<%= config.bin %> volume rm data-2', '<%= config.bin %> volume rm data-2 --wipe']
  static override args = {name: Args.string({description: 'Volume name.', required: true})}
  static override flags = {wipe: Flags.boolean({description: 'Delete its data on its node too.'})}

  public async run(): Promise<{removed: VolumeJson; wiped: boolean}> {
    const view = await removeVolume(await this.services({ssh: this.flags.wipe}), this.args.name, {wipe: this.flags.wipe})
    const wiped = this.flags.wipe && view.volume.kind === 'local' && view.volume.nodeId !== null
    if (!this.jsonEnabled()) this.log(`Removed volume ${view.volume.name}${wiped ? ` and its data on ${view.volume.nodeName}` : view.path && view.volume.nodeName ? ` (its data stays in ${view.path} on ${view.volume.nodeName})` : ''}.`)
    return {removed: volumeToJson(view), wiped}
  }
}

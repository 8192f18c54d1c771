import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {forgetVolume} from '../../core/services/volumes.js'
import {volumeToJson, type VolumeJson} from '../../ui/presenters/volumes.js'

export default class VolumeForget extends BaseCommand<typeof VolumeForget> {
  static override summary = 'Give up a local volume\'s data on its node (a node that is down for good): its blocked task may then start elsewhere.'
  static override description = 'Nothing on the node is touched and no disk stays reserved there. When its job still wants that instance, --new-empty is required: the instance then starts with a new, empty volume wherever it is placed next (the next pass). Refused while a task runs with it (exit 2).'
  static override examples = ['<%= config.bin %> volume forget data-0 --new-empty']
  static override args = {name: Args.string({description: 'Volume name (NAME-INSTANCE).', required: true})}
  static override flags = {'new-empty': Flags.boolean({description: 'Its instance gets a new, empty volume of the same name.'})}

  public async run(): Promise<{forgotten: VolumeJson; replacement: string | null}> {
    const {forgotten, replacement} = forgetVolume(await this.services(), this.args.name, {newEmpty: this.flags['new-empty']})
    if (!this.jsonEnabled()) {
      const where = forgotten.volume.nodeName ? ` (its data is left in ${forgotten.path} on ${forgotten.volume.nodeName})` : ''
      this.log(`Forgot volume ${forgotten.volume.name}${where}.${replacement ? ` ${forgotten.volume.jobName}.${forgotten.volume.instance} gets a new, empty one on its next placement.` : ''}`)
    }

    return {forgotten: volumeToJson(forgotten), replacement: replacement?.name ?? null}
  }
}

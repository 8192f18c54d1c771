import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {type EdgeImage, edgeImage} from '../../core/services/edge.js'

export default class EdgeImageCommand extends BaseCommand<typeof EdgeImageCommand> {
  static override summary = 'Show or set the image the edge proxies (HAProxy) run.'
  static override description = 'Every edge node (`clusterctl node edge NAME`) runs HAProxy from this image, as a podman container `clusterctl-edge` with host networking (docs/endpoints.md). Default: the official image, docker.io/library/haproxy:2.6. The image needs `haproxy` and `perl` (perl-base, in every Debian-based image) on its PATH. Without a registry, load one into the edges with `clusterctl image push ARCHIVE --nodes EDGE,...` first. A new image recreates each edge proxy at the next pass (open connections through it are cut).'
  static override examples = ['<%= config.bin %> edge image', '<%= config.bin %> edge image localhost/haproxy:2.6', '<%= config.bin %> edge image --json']
  static override args = {image: Args.string({description: 'The image reference (absent: show the current one).'})}

  public async run(): Promise<EdgeImage> {
    const result = edgeImage(await this.services(), this.args.image)
    if (!this.jsonEnabled()) {
      if (this.args.image === undefined) this.log(`${result.image}${result.default ? ' (default)' : ''}`)
      else this.log(result.changed ? `Edge image is now ${result.image}: each edge proxy is recreated with it by the next pass.` : `Edge image was already ${result.image}.`)
    }

    return result
  }
}

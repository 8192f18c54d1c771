import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {getEndpoints} from '../core/services/endpoints.js'
import {endpointToJson, type EndpointJson, renderEndpoints} from '../ui/presenters/endpoints.js'

export default class Endpoints extends BaseCommand<typeof Endpoints> {
  static override summary = 'Where services are reached: their service port on every edge node, and the backends behind it.'
  static override description = 'For each service (a job with a service port): EDGE_ADDRESS:SERVICE_PORT for every edge node (`clusterctl node edge NAME`), and its backends (node address and host port of each task) with the state the edges hold them in: ready (in rotation: running, healthy and ready), drain (to stop: no new connections) or maint (not ready, or its node failed). Computed from the state file (what the passes bring the edge proxies to; what their runtime API says is not shown yet: docs/endpoints.md). Exit 3 for a job that does not exist or has no service port.'
  static override stateFile = 'empty' as const
  static override examples = ['<%= config.bin %> endpoints', '<%= config.bin %> endpoints web --json']
  static override args = {job: Args.string({description: 'Only this service.'})}

  public async run(): Promise<EndpointJson[]> {
    const endpoints = getEndpoints(await this.services(), this.args.job)
    if (!this.jsonEnabled()) this.log(renderEndpoints(endpoints, this.interactive))
    if (endpoints.length === 0) this.noteEmptyListing()
    return endpoints.map(endpointToJson)
  }
}

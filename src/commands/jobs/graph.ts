import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import type {JobGraph} from '../../core/schedule/graph.js'
import {jobGraph} from '../../core/services/runs.js'
import {renderGraphDot, renderGraphText} from '../../ui/presenters/runs.js'

export default class JobsGraph extends BaseCommand<typeof JobsGraph> {
  static override summary = 'The dependency graph of scheduled and dependent jobs (--after).'
  static override description = 'text: a tree per root job; dot: Graphviz (`| dot -Tsvg > jobs.svg`); json: nodes and edges. With JOB, only the jobs connected to it (its ancestors and descendants).'
  static override examples = ['<%= config.bin %> jobs graph', '<%= config.bin %> jobs graph nightly --format dot | dot -Tsvg > nightly.svg']
  static override args = {job: Args.string({description: 'Only the jobs connected to this one.'})}
  static override flags = {format: Flags.string({description: 'Output format.', options: ['text', 'dot', 'json'], default: 'text'})}

  public async run(): Promise<JobGraph> {
    const graph = jobGraph(await this.services(), this.args.job)
    if (!this.jsonEnabled()) {
      if (this.flags.format === 'json') this.log(JSON.stringify(graph, null, 2))
      else this.log(this.flags.format === 'dot' ? renderGraphDot(graph) : renderGraphText(graph))
    }

    return graph
  }
}

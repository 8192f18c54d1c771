import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {listJobTasks} from '../core/services/jobs.js'
import {addressesOf} from '../cli/job-command.js'
import {renderTasksTable, taskToJson, type TaskJson} from '../ui/presenters/jobs.js'

export default class Ps extends BaseCommand<typeof Ps> {
  static override summary = 'List tasks (instances) and where they run.'
  static override description = 'Live tasks, and for an instance with none (a crash loop in its restart back-off, a batch job out of retries) its last ended task, with when it restarts. SERVICE is the job\'s stable address (the first edge node that answers and its service port; `:PORT` without an edge node, - without a service port; `clusterctl endpoints JOB` lists every edge). REASON is one line: `clusterctl inspect TASK` shows the whole text.'
  static override stateFile = 'empty' as const
  static override examples = ['<%= config.bin %> ps', '<%= config.bin %> ps web --json', '<%= config.bin %> ps web --all']
  static override args = {job: Args.string({description: 'Only this job.'})}
  static override flags = {all: Flags.boolean({description: 'Also finished, failed and killed tasks.'})}

  public async run(): Promise<TaskJson[]> {
    const ctx = await this.services()
    const tasks = listJobTasks(ctx, {...(this.args.job ? {job: this.args.job} : {}), all: this.flags.all})
    const where = addressesOf(ctx)
    if (!this.jsonEnabled()) this.log(renderTasksTable(tasks, where, this.clock.now(), this.interactive))
    if (tasks.length === 0) this.noteEmptyListing()
    return tasks.map((t) => taskToJson(t, where))
  }
}

import {Args} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {inspect} from '../core/services/jobs.js'
import {scheduleViews} from '../core/services/runs.js'
import {addressesOf} from '../cli/job-command.js'
import {jobToJson, type JobJson, renderJobDetail, renderTaskDetail, taskToJson, type TaskJson} from '../ui/presenters/jobs.js'

export default class Inspect extends BaseCommand<typeof Inspect> {
  static override summary = 'Show a job (spec, instances, pending reasons, recent events) or a task (by id prefix or container name).'
  static override description = 'A task is shown whole: its full reason (a runtime error can run to several lines), and its job counted over all its tasks. Exit 3 when neither a job nor a task has that name.'
  static override examples = ['<%= config.bin %> inspect web', '<%= config.bin %> inspect 1f3a9c2e --json']
  static override args = {ref: Args.string({description: 'Job name, or task id prefix / container name.', required: true})}

  public async run(): Promise<{job: JobJson | null; task: TaskJson | null; tasks: TaskJson[]; events: Array<{at: string; type: string; message: string}>}> {
    const ctx = await this.services()
    const r = inspect(ctx, this.args.ref)
    const where = addressesOf(ctx)
    const schedule = r.job ? scheduleViews(ctx).get(r.job.job.id) : undefined
    if (!this.jsonEnabled()) {
      if (r.task) this.log(renderTaskDetail(r.task, r.job, r.events, where, this.clock.now(), this.interactive))
      else this.log(renderJobDetail(r.job!, r.tasks, r.events, where, this.clock.now(), this.interactive, schedule))
    }

    return {
      job: r.job ? jobToJson(r.job, schedule) : null,
      task: r.task ? taskToJson(r.task, where) : null,
      tasks: r.tasks.map((t) => taskToJson(t, where)),
      events: r.events.map((e) => ({at: new Date(e.at).toISOString(), type: e.type, message: e.message})),
    }
  }
}

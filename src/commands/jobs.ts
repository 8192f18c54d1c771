import {BaseCommand} from '../cli/base-command.js'
import {summarizeJobs} from '../core/services/jobs.js'
import {jobToJson, type JobJson, renderJobsTable} from '../ui/presenters/jobs.js'

export default class Jobs extends BaseCommand<typeof Jobs> {
  static override summary = 'List jobs with their desired and running instances.'
  static override examples = ['<%= config.bin %> jobs', '<%= config.bin %> jobs --json']

  public async run(): Promise<JobJson[]> {
    const ctx = await this.services()
    const jobs = summarizeJobs(ctx)
    if (!this.jsonEnabled()) this.log(renderJobsTable(jobs, this.clock.now()))
    return jobs.map((j) => jobToJson(j.job, j))
  }
}

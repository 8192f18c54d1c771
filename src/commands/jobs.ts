import {BaseCommand} from '../cli/base-command.js'
import {summarizeJobs} from '../core/services/jobs.js'
import {scheduleViews} from '../core/services/runs.js'
import {jobsTableLines, jobToJson, type JobJson, renderScheduledJobs} from '../ui/presenters/jobs.js'

export default class Jobs extends BaseCommand<typeof Jobs> {
  static override summary = 'List jobs with their desired and running instances; scheduled and dependent jobs with their schedule, parents, next and last run.'
  static override description = 'STATE is active, stopped, completed (a batch job whose instances all finished) or failed (a batch job out of retries). Linear in the number of jobs, and written as it renders (docs/performance.md: 10,000 jobs).'
  static override stateFile = 'empty' as const
  static override examples = ['<%= config.bin %> jobs', '<%= config.bin %> jobs --json']

  public async run(): Promise<JobJson[]> {
    const ctx = await this.services()
    const jobs = summarizeJobs(ctx)
    this.logLines(jobsTableLines(jobs, this.clock.now()))
    if (jobs.length === 0) this.noteEmptyListing()
    const schedules = scheduleViews(ctx)
    if (schedules.size > 0 && !this.jsonEnabled()) this.log(`
${renderScheduledJobs(jobs, schedules, this.clock.now())}`)
    return jobs.map((j) => jobToJson(j, schedules.get(j.job.id)))
  }
}

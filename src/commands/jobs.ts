import {BaseCommand} from '../cli/base-command.js'
import {summarizeJobs} from '../core/services/jobs.js'
import {jobsTableLines, jobToJson, type JobJson} from '../ui/presenters/jobs.js'

export default class Jobs extends BaseCommand<typeof Jobs> {
  static override summary = 'List jobs with their desired and running instances.'
  static override description = 'STATE is active, stopped, completed (a batch job whose instances all finished) or failed (a batch job out of retries). Linear in the number of jobs, and written as it renders (docs/performance.md: 10,000 jobs).'
  static override stateFile = 'empty' as const
  static override examples = ['<%= config.bin %> jobs', '<%= config.bin %> jobs --json']

  public async run(): Promise<JobJson[]> {
    const ctx = await this.services()
    const jobs = summarizeJobs(ctx)
    this.logLines(jobsTableLines(jobs, this.clock.now()))
    if (jobs.length === 0) this.noteEmptyListing()
    return jobs.map((j) => jobToJson(j))
  }
}

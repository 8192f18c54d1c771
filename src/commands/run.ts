import {Args, Flags} from '@oclif/core'

import {containerCommand, type RawToken} from '../cli/argv.js'
import {BaseCommand} from '../cli/base-command.js'
import {runJob, summarizeJob} from '../core/services/jobs.js'
import {scheduleViews} from '../core/services/runs.js'
import {parseSpecFlags} from '../core/spec/flags.js'
import {exitCodeOfPass, addressesOf, waitFlags, waitMsOf} from '../cli/job-command.js'
import {jobToJson, type JobJson, taskToJson, type TaskJson} from '../ui/presenters/jobs.js'
import {renderPass} from '../ui/presenters/pass.js'
import type {PassReport} from '../core/reconcile/report.js'

export default class Run extends BaseCommand<typeof Run> {
  static override summary = 'Run a job: record it, place its instances and start them (one pass).'
  static override description = 'Everything after `--` is the container command. Host ports for -p are chosen by the scheduler from 31000-32000; the container also gets them as $PORT0.. (under containerd, which runs with host networking, it must bind $PORT0). Exit 4 when instances stay pending (the reason is printed), 1 when a start failed.'
  static override examples = [
    '<%= config.bin %> run web --image localhost/app:1 --instances 3 -p 8080 --constraint hostname:UNIQUE',
    `<%= config.bin %> run echo --image localhost/clusterctl-test:latest --cpus 0.2 --mem 64Mi -- sh -c 'echo hi; sleep 3600'`,
    '<%= config.bin %> run report --kind batch --image localhost/report:2 --restart on-failure',
    `<%= config.bin %> run nightly --image localhost/etl:3 --schedule '30 2 * * *' --timezone Europe/Berlin --deadline 1h -- /etl run`,
    '<%= config.bin %> run publish --image localhost/etl:3 --after nightly --after extract --retries 3',
  ]

  static override usage = '<%= command.id %> NAME --image IMAGE [FLAGS] [-- COMMAND [ARG...]]'
  static override strict = false
  static override args = {name: Args.string({description: 'Job name.', required: true})}
  static override flags = {
    ...waitFlags,
    image: Flags.string({description: 'Container image (load it with `clusterctl image push` when there is no registry).', required: true}),
    cpus: Flags.string({description: 'CPUs per instance, e.g. 0.5 (default 0.1).'}),
    mem: Flags.string({description: 'Memory per instance, e.g. 256Mi (default 128Mi).'}),
    disk: Flags.string({description: 'Disk per instance, e.g. 1Gi.'}),
    gpus: Flags.integer({description: 'GPUs per instance.'}),
    instances: Flags.integer({description: 'Number of instances (0-10000).', default: 1}),
    publish: Flags.string({char: 'p', description: 'CONTAINER_PORT[/tcp|udp] to publish (repeatable).', multiple: true}),
    env: Flags.string({char: 'e', description: 'K=V environment variable (repeatable).', multiple: true}),
    volume: Flags.string({char: 'v', description: 'SRC:DST[:ro]: a host path (/srv/data:/data) or a local volume NAME (data:/data; instance i gets NAME-i, 1Gi, pinned to its node) (repeatable).', multiple: true}),
    nfs: Flags.string({description: 'NAME=SERVER:/EXPORT:DST[:ro]: an NFS export mounted at DST, shared by every instance (repeatable).', multiple: true}),
    constraint: Flags.string({description: 'FIELD:OP[:VALUE], Marathon operators UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS (repeatable).', multiple: true}),
    prefer: Flags.string({description: 'Soft preference LABEL=VALUE[:WEIGHT] (repeatable).', multiple: true}),
    strategy: Flags.string({description: 'Placement: binpack (default) or spread.', options: ['binpack', 'spread']}),
    'health-http': Flags.string({description: 'HTTP health check PORT[/PATH] (a published container port).'}),
    'health-tcp': Flags.string({description: 'TCP health check PORT.'}),
    'health-cmd': Flags.string({description: 'Health check command run in the container.'}),
    restart: Flags.string({description: 'Restart policy.', options: ['always', 'on-failure', 'never']}),
    kind: Flags.string({description: 'service (long-running, the default) or batch (runs to completion; the default with --schedule or --after).', options: ['service', 'batch']}),
    schedule: Flags.string({description: 'Run on a schedule: a cron expression (5 fields, or 6 with seconds first; @hourly, @daily...; several joined with ";") or a Chronos ISO 8601 interval Rn/START/PERIOD.'}),
    timezone: Flags.string({description: 'IANA time zone the schedule is read in (default UTC).'}),
    after: Flags.string({description: 'Run when this job has succeeded (repeatable: after every one of them).', multiple: true}),
    retries: Flags.integer({description: 'Attempts after a failed run (default 2), back-off 10 s doubling up to 10 min.', min: 0}),
    deadline: Flags.string({description: 'Kill a run that takes longer than this (e.g. 30m); it is not retried.'}),
    concurrency: Flags.string({description: 'A firing while a run is going: forbid (wait for it; the default), allow, or replace it.', options: ['forbid', 'allow', 'replace']}),
    runtime: Flags.string({description: 'Run only on nodes with this runtime.', options: ['podman', 'containerd']}),
    team: Flags.string({description: 'The team the job belongs to (default `default`): teams share the cluster by weighted dominant resource fairness, within their quotas (`clusterctl teams`).'}),
    priority: Flags.integer({description: 'Priority 1-100 (default 50): higher is placed first within its team, and after 3 minutes pending may preempt running tasks 10 or more lower.', min: 1, max: 100}),
    preemption: Flags.string({description: 'never: this job\'s pending tasks never preempt others; allow (the default): they may, within the victims\' disruption budgets; force: beyond those budgets too when nothing else makes room.', options: ['never', 'allow', 'force']}),
    'service-port': Flags.integer({description: 'The stable port the service is reached at on every edge node, fronting its first TCP port (default: one assigned from 10000-10999, kept for the life of the job; docs/endpoints.md).'}),
    uses: Flags.string({description: 'A service this job\'s containers reach by its stable address (repeatable): they get NAME_SERVICE_HOST, NAME_SERVICE_PORT and NAME_SERVICE_HOSTS (every edge) for it (docs/endpoints.md). It must exist.', multiple: true}),
    network: Flags.string({description: 'Join the podman network NAME, created on each node on demand with DNS on: instances on one node reach each other as JOB-INSTANCE (e.g. web-0) and JOB (docs/networks.md). Not on containerd, which runs host networking.'}),
    'drain-timeout': Flags.string({description: 'How long a stop waits for this service\'s connections on the edge proxies to end before it stops the task anyway, e.g. 2m (default 30s, at most 1h; docs/endpoints.md).'}),
    label: Flags.string({description: 'Container label k=v (repeatable).', multiple: true}),
    init: Flags.boolean({description: 'Run a small init (catatonit or tini on the node) as PID 1 so signals reach the command and stops are quick; --no-init runs the command as PID 1.', default: true, allowNo: true}),
    'no-start': Flags.boolean({description: 'Only record the job; the next `clusterctl schedule` places it.'}),
  }

  public async run(): Promise<{job: JobJson; tasks: TaskJson[]; pass: PassReport | null}> {
    const {argv, raw} = await this.parse(Run)
    const command = containerCommand(this.argv, raw as RawToken[], argv as string[], 1)
    const {flags} = this
    const waitMs = waitMsOf(flags.timeout)
    const spec = parseSpecFlags({name: this.args.name, command, ...flags})
    const ctx = await this.services({ssh: !flags['no-start']})
    const result = await runJob(ctx, spec, {noStart: flags['no-start'], waitMs})
    const where = addressesOf(ctx)
    const tasks = result.tasks.map((t) => taskToJson(t, where))
    process.exitCode = exitCodeOfPass(result.pass, [result.job.name])
    if (!this.jsonEnabled()) {
      const schedule = result.job.spec.runPolicy ? scheduleViews(ctx).get(result.job.id) : undefined
      if (schedule) this.log(`Job ${result.job.name} recorded: ${schedule.schedule ? `next runs ${schedule.next.join(', ') || 'none'}` : 'no schedule'}${schedule.parents.length ? `, after ${schedule.parents.join(', ')}` : ''}.`)
      else this.log(`Job ${result.job.name} recorded (${result.job.instances} instance${result.job.instances === 1 ? '' : 's'}${result.job.servicePort == null ? '' : `, service port ${result.job.servicePort}`}).`)
      if (result.pass) this.log(renderPass(result.pass, this.interactive))
      for (const t of tasks.filter((t) => t.state === 'running')) this.log(`  ${t.job}.${t.instance} on ${t.node}${t.ports.length ? `: ${t.ports.map((p) => p.endpoint).join(' ')}` : ''}`)
    }

    return {job: jobToJson(summarizeJob(ctx, result.job)), tasks, pass: result.pass}
  }
}

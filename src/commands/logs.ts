import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {taskLogs} from '../core/services/jobs.js'

export default class Logs extends BaseCommand<typeof Logs> {
  static override enableJsonFlag = false
  static override summary = "Print a task's container output (from its node)."
  static override examples = ['<%= config.bin %> logs 1f3a9c2e', '<%= config.bin %> logs cctl-web-0-1f3a9c2e -f --tail 100']
  static override args = {task: Args.string({description: 'Task id prefix or container name.', required: true})}
  static override flags = {
    follow: Flags.boolean({char: 'f', description: 'Keep printing new output until interrupted.'}),
    tail: Flags.integer({description: 'Only the last N lines.', min: 0}),
  }

  public async run(): Promise<void> {
    const controller = new AbortController()
    const stop = (): void => controller.abort()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    try {
      await taskLogs(await this.services({ssh: true}), this.args.task, {
        follow: this.flags.follow,
        ...(this.flags.tail === undefined ? {} : {tail: this.flags.tail}),
        signal: controller.signal,
        onStdout: (chunk) => process.stdout.write(chunk),
        onStderr: (chunk) => process.stderr.write(chunk),
      })
    } catch (error) {
      if (!controller.signal.aborted) throw error
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}

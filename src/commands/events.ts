import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {parseDuration} from '../cli/flag-parsers.js'
import {UserError} from '../core/errors.js'
import type {ClusterEvent} from '../core/model/event.js'
import {getEvents} from '../core/services/events.js'
import {renderTable} from '../ui/table.js'

interface EventJson {
  id: number
  at: string
  type: string
  subjectKind: string
  subject: string
  message: string
  data: Record<string, unknown>
}

const toJson = (e: ClusterEvent): EventJson => ({id: e.id, at: new Date(e.at).toISOString(), type: e.type, subjectKind: e.subjectKind, subject: e.subject, message: e.message, data: e.data})

export default class Events extends BaseCommand<typeof Events> {
  static override summary = 'Show the event log: every state change of nodes, jobs and tasks, with its reason.'
  static override description = 'With --follow, new events are printed as they are recorded (by any clusterctl using this state file) until interrupted; with --json they are then JSON lines, one event per line.'
  static override examples = ['<%= config.bin %> events --since 10m', '<%= config.bin %> events -f', '<%= config.bin %> events --node web-1 --json']
  static override flags = {
    follow: Flags.boolean({char: 'f', description: 'Keep printing new events until interrupted.'}),
    since: Flags.string({description: 'Only events newer than this: a duration (10m, 2h) or an ISO 8601 time.'}),
    limit: Flags.integer({description: 'At most this many (the latest).', default: 100, min: 1}),
    node: Flags.string({description: 'Only events of this node.', exclusive: ['job']}),
    job: Flags.string({description: 'Only events of this job and its tasks.'}),
  }

  public async run(): Promise<EventJson[] | undefined> {
    const {follow, since, limit, node, job} = this.flags
    const sinceMs = since === undefined ? 0 : parseSince(since, this.clock.now())
    const ctx = await this.services()
    const filter = node ? {subjectKind: 'node' as const, subject: node} : job ? {job} : {}
    const first = getEvents(ctx, {sinceMs, limit, ...filter})
    if (!follow) {
      if (!this.jsonEnabled()) this.log(first.length === 0 ? 'No events.' : renderTable(['TIME', 'TYPE', 'SUBJECT', 'MESSAGE'], first.map((e) => [new Date(e.at).toISOString(), e.type, `${e.subjectKind}/${e.subjectKind === 'task' ? e.subject.slice(0, 8) : e.subject}`, e.message])))
      return first.map(toJson)
    }

    const print = (e: ClusterEvent): void => {
      if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(toJson(e))}\n`)
      else this.log(`${new Date(e.at).toISOString()}  ${e.type.padEnd(18)} ${e.subjectKind}/${e.subjectKind === 'task' ? e.subject.slice(0, 8) : e.subject}  ${e.message}`)
    }

    for (const e of first) print(e)
    let last = first.at(-1)?.id ?? getEvents(ctx, {limit: 1}).at(-1)?.id ?? 0
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    let running = true
    void stopped.then(() => {
      running = false
    })
    while (running) {
      for (const e of getEvents(ctx, {afterId: last, limit: 1000, ...filter})) {
        print(e)
        last = e.id
      }

      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 500))])
    }

    // Followed output was printed as it came; oclif must not print a JSON document on top.
    return undefined
  }
}

function parseSince(text: string, now: number): number {
  const iso = Date.parse(text)
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(iso)) return iso
  const ms = parseDuration(text)
  if (ms === null) throw new UserError(`--since expects a duration like 10m or 2h, or an ISO 8601 time like 2026-11-25T04:00:00Z; got ${JSON.stringify(text)}.`)
  return now - ms
}

import {Args, Flags} from '@oclif/core'
import path from 'node:path'

import {BaseCommand} from '../../cli/base-command.js'
import {formatBytes} from '../../core/model/resources.js'
import {pushExitCode, pushImage, type PushImageResult, type PushProgress} from '../../core/services/images.js'
import {paint} from '../../ui/style.js'

export type ImagePushJson = PushImageResult

export default class ImagePush extends BaseCommand<typeof ImagePush> {
  static override summary = 'Load an image archive into the container runtime of nodes, without a registry.'
  static override description = `ARCHIVE is a docker-archive or OCI archive, e.g. from \`podman save --format docker-archive -o app.tar IMAGE\`. It is streamed over SSH into each node's runtime (\`podman load\`, or \`ctr image import\` into the clusterctl namespace), up to 4 nodes at a time. Exit 0 when every node loaded it, 5 when the only failures were unreachable nodes, 1 otherwise.`
  static override examples = [
    '<%= config.bin %> image push app.tar',
    '<%= config.bin %> image push app.tar --nodes web-1,web-2',
    '<%= config.bin %> image push app.tar --json',
  ]

  static override args = {
    archive: Args.string({description: 'Image archive (docker-archive or OCI tar, possibly compressed).', required: true}),
  }

  static override flags = {
    nodes: Flags.string({description: 'Comma-separated node names (default: every node).'}),
  }

  public async run(): Promise<ImagePushJson> {
    const {archive} = this.args
    const nodes = this.flags.nodes === undefined ? undefined : this.flags.nodes.split(',')
    const ctx = await this.services({ssh: true})
    const progress = process.stderr.isTTY === true && !this.jsonEnabled() ? new ProgressLine(path.basename(archive)) : undefined
    const result = await pushImage(ctx, {archive, ...(nodes ? {nodes} : {}), ...(progress ? {onProgress: (p) => progress.update(p)} : {})})
    progress?.finish()
    process.exitCode = pushExitCode(result)
    if (!this.jsonEnabled()) this.present(result)
    return result
  }

  private present(result: PushImageResult): void {
    const color = this.interactive
    const errColor = process.stderr.isTTY === true
    const ok = result.nodes.filter((n) => n.ok)
    const failed = result.nodes.filter((n) => !n.ok)
    const images = [...new Set(ok.flatMap((n) => n.images ?? []))].sort()
    for (const n of ok) this.log(`${paint.ok('✔', color)} ${n.node} (${n.runtime}): ${n.images?.join(', ') || 'loaded'} in ${(n.durationMs / 1000).toFixed(1)}s`)
    for (const n of failed) this.logToStderr(`${paint.error('✖', errColor)} ${n.node} (${n.runtime}): ${n.error?.message ?? 'failed'}`)
    const summary = `${path.basename(result.archive)} (${formatBytes(result.bytes)})${images.length > 0 ? ` [${images.join(', ')}]` : ''}: loaded on ${ok.length} of ${result.nodes.length} node${result.nodes.length === 1 ? '' : 's'}`
    if (failed.length === 0) this.log(paint.bold(summary, color))
    else this.logToStderr(paint.error(`${summary}, ${failed.length} failed.`, errColor))
  }
}

/** One self-rewriting stderr line on a terminal: bytes sent over all nodes, nodes done. */
class ProgressLine {
  private readonly sent = new Map<string, number>()
  private readonly totals = new Map<string, number>()
  private done = 0
  private lastDraw = 0

  constructor(private readonly label: string) {}

  update(p: PushProgress): void {
    this.sent.set(p.node, p.sentBytes)
    this.totals.set(p.node, p.totalBytes)
    if (p.done) this.done++
    const now = Date.now()
    if (p.done || now - this.lastDraw >= 100) {
      this.lastDraw = now
      this.draw()
    }
  }

  private draw(): void {
    let sent = 0
    let total = 0
    for (const [node, bytes] of this.sent) {
      sent += bytes
      total += this.totals.get(node) ?? 0
    }
    const pct = total === 0 ? 0 : Math.floor((sent / total) * 100)
    process.stderr.write(`\r\u001B[2KPushing ${this.label}: ${formatBytes(sent)}/${formatBytes(total)} (${pct}%), ${this.done} node${this.done === 1 ? '' : 's'} done`)
  }

  private clear(): void {
    process.stderr.write('\r\u001B[2K')
  }

  finish(): void {
    this.clear()
  }
}

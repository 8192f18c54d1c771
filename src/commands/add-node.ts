import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {readInput} from '../cli/read-input.js'
import {ExitCode, UserError} from '../core/errors.js'
import {parseResourceList} from '../core/model/resources.js'
import {type AddNodeRequest, addNodes} from '../core/services/nodes.js'
import {nodeToJson, type NodeJson} from '../ui/presenters/nodes.js'
import {paint} from '../ui/style.js'
import {parseLabels} from '../cli/flag-parsers.js'

export interface AddNodeJson {
  added: NodeJson[]
  failed: Array<{target: string; name: string | null; code: string; message: string; exitCode: number}>
}

export default class AddNode extends BaseCommand<typeof AddNode> {
  static override aliases = ['node:add']
  static override summary = 'Register nodes: connect over SSH, inventory their hardware, pin their host keys.'
  static override stateFile = 'create' as const
  static override description = `HOST may be an address, a ~/.ssh/config alias (HostName, User, Port, IdentityFile and ProxyJump are honoured) or \`local\` (this machine, through local processes). Several targets, or --from-file, are added in parallel; nothing is saved for a target that fails.`
  static override examples = [
    '<%= config.bin %> add-node root@10.0.0.5',
    '<%= config.bin %> add-node web-1 web-2 web-3 --label zone=eu-1 --reserve cpus=0.5,mem=512Mi',
    '<%= config.bin %> add-node gpu-1 --resources cpus=32,mem=256Gi,gpus=4 --runtime containerd',
    '<%= config.bin %> add-node --from-file hosts.txt --json',
    '<%= config.bin %> add-node local',
  ]

  static override strict = false
  static override args = {
    target: Args.string({description: '[USER@]HOST[:PORT], a ~/.ssh/config alias, or local (repeatable).', required: false}),
  }

  static override flags = {
    name: Flags.string({description: 'Node name (default: HOST as given). Only with a single target.'}),
    key: Flags.string({description: 'Private key file (else ssh-agent, else ~/.ssh/config IdentityFile, else default keys).'}),
    label: Flags.string({description: 'Label k=v for constraints (repeatable).', multiple: true}),
    runtime: Flags.string({description: 'Container runtime to use.', options: ['auto', 'podman', 'containerd'], default: 'auto'}),
    sudo: Flags.boolean({description: 'Run remote commands through sudo -n.'}),
    reserve: Flags.string({description: 'Kept back for the host, e.g. cpus=0.5,mem=512Mi.'}),
    resources: Flags.string({description: 'Declared capacity overriding what was detected, e.g. cpus=4,mem=8Gi,gpus=1.'}),
    'host-key': Flags.string({description: 'Require this host key fingerprint (SHA256:...).'}),
    edge: Flags.boolean({description: 'Make them edge nodes: each serves every service on its service port (docs/endpoints.md; `clusterctl node edge NAME` later).'}),
    'from-file': Flags.string({description: 'Read targets from a file (- for standard input): one per line, "TARGET [NAME]", # comments.'}),
  }

  public async run(): Promise<AddNodeJson> {
    const {argv} = await this.parse(AddNode)
    const requests = await this.buildRequests(argv as string[])
    const ctx = await this.services({ssh: true})
    const color = process.stderr.isTTY === true
    const showProgress = requests.length > 1 && process.stderr.isTTY === true && !this.jsonEnabled()
    const outcome = await addNodes(requests, ctx, {
      onProgress: showProgress
        ? (p) => this.logToStderr(`[${p.done}/${p.total}] ${p.ok ? paint.ok('✔', color) : paint.error('✖', color)} ${p.target}: ${p.message}`)
        : undefined,
    })

    // A single target that failed is a plain error: one sentence, its exit code.
    if (requests.length === 1 && outcome.failed.length === 1) throw outcome.failed[0]!.error

    const result: AddNodeJson = {
      added: outcome.added.map((a) => nodeToJson(a.node)),
      failed: outcome.failed.map((f) => {
        const e = f.error as Error & {code?: string; exitCode?: number}
        return {target: f.target, name: f.name, code: typeof e.code === 'string' ? e.code : 'failed', message: e.message, exitCode: e.exitCode ?? ExitCode.failed}
      }),
    }
    if (result.failed.length > 0) {
      const codes = new Set(result.failed.map((f) => f.exitCode))
      process.exitCode = codes.size === 1 ? [...codes][0]! : ExitCode.failed
    }

    if (!this.jsonEnabled()) this.present(outcome.added, result)
    return result
  }

  private present(added: Awaited<ReturnType<typeof addNodes>>['added'], result: AddNodeJson): void {
    const color = this.interactive
    for (const {node, pinnedNewHostKey} of added) {
      const a = nodeToJson(node).allocatable
      this.log(`${paint.ok('Added', color)} node ${paint.bold(node.name, color)} (${node.resolvedAddress}, ${node.runtime}, ${a.cpus} cpus, ${Math.round(a.memBytes / 1024 ** 2)}Mi mem allocatable${node.edge ? ', edge' : ''})`)
      if (pinnedNewHostKey && node.hostKey) this.log(`  host key pinned: ${node.hostKey.algorithm} ${node.hostKey.fingerprint}`)
    }

    if (result.failed.length > 0) {
      this.logToStderr(`${paint.error(`${result.failed.length} of ${result.failed.length + result.added.length} failed:`, process.stderr.isTTY === true)}`)
      for (const f of result.failed) this.logToStderr(`  ${f.target}: ${f.message}`)
    }
  }

  private async buildRequests(targets: string[]): Promise<AddNodeRequest[]> {
    const {flags} = this
    const fromFile = flags['from-file'] ? await readTargetsFile(flags['from-file']) : []
    const all: Array<{target: string; name?: string}> = [...targets.map((t) => ({target: t})), ...fromFile]
    if (all.length === 0) throw new UserError('Give at least one node: clusterctl add-node [USER@]HOST[:PORT] (or --from-file hosts.txt).')
    if (flags.name !== undefined) {
      if (all.length > 1) throw new UserError('--name applies to a single target; with several, names default to each HOST (or give "TARGET NAME" lines in --from-file).')
      all[0]!.name = flags.name
    }

    const common = {
      keyPath: flags.key,
      labels: parseLabels(flags.label),
      runtime: flags.runtime as AddNodeRequest['runtime'],
      sudo: flags.sudo,
      reserve: flags.reserve === undefined ? undefined : parseResourceList(flags.reserve, '--reserve'),
      resources: flags.resources === undefined ? undefined : parseResourceList(flags.resources, '--resources'),
      hostKey: flags['host-key'],
      ...(flags.edge ? {edge: true} : {}),
    }
    return all.map((t) => ({...common, target: t.target, ...(t.name ? {name: t.name} : {})}))
  }
}

async function readTargetsFile(file: string): Promise<Array<{target: string; name?: string}>> {
  const text = await readInput(file, {label: `--from-file ${file}`})

  const out: Array<{target: string; name?: string}> = []
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim()
    if (line === '') continue
    const parts = line.split(/\s+/)
    if (parts.length > 2) throw new UserError(`${file}:${i + 1}: expected "TARGET [NAME]", got ${JSON.stringify(line)}.`)
    out.push(parts[1] ? {target: parts[0]!, name: parts[1]} : {target: parts[0]!})
  }

  if (out.length === 0) throw new UserError(`--from-file ${file} lists no targets.`)
  return out
}

/**
 * The edge proxies' share of a pass (docs/endpoints.md, decision 0011), effectful: on
 * every edge node, the proxy container kept running with the configuration of what the
 * state says now (core/edge/runner.ts scripts: written, checked with `haproxy -c`,
 * swapped atomically, a reload only when frontends change), then its backends brought
 * to what is wanted through the runtime API (`runtimeCommands`, read from
 * `show servers state` and `show stat`). Two round trips per edge at most, edges in
 * parallel. What each edge answered last is returned: the pass decides from it whether
 * a draining task may stop.
 */
import {createHash} from 'node:crypto'

import {forEachLimited} from '../async.js'
import {backendName, frontendsOf, liveServers, type LiveServer, renderHaproxyConfig, runtimeCommands, type EdgeService} from '../edge/haproxy.js'
import {edgeCommandsArgv, edgeCommandsInput, edgeRunDir, edgeSyncArgv, type EdgeServerView, failedAnswers, parseEdgeOutput, readAnswers} from '../edge/runner.js'
import {machineOf, type Node} from '../model/node.js'
import type {Transport} from '../transport.js'

/** Edge nodes in these states are not contacted (they answer no one; their clients fail over to other edges). */
const SKIP: ReadonlySet<Node['state']> = new Set(['down', 'unreachable'])
const SYNC_TIMEOUT_MS = 60_000

export interface EdgeResult {
  node: string
  ok: boolean
  /** Whether its backends were read (even when a command failed after). */
  answered: boolean
  /** What went wrong (the edge keeps serving what it had). */
  error: string | null
  /** written, reloaded, started, recreated... */
  events: string[]
  /** Runtime-API commands sent this pass. */
  commands: string[]
  /** The backends as HAProxy reported them last (after the commands), by backend name. */
  live: Map<string, LiveServer[]>
}

/** The edge nodes a pass syncs: marked, answering, one per machine (names of one machine share its ports). */
export function edgeNodesOf(nodes: readonly Node[]): Node[] {
  const seen = new Set<string>()
  const out: Node[] = []
  for (const n of nodes) {
    if (n.edge !== true || SKIP.has(n.state)) continue
    const machine = machineOf(n)
    if (seen.has(machine)) continue
    seen.add(machine)
    out.push(n)
  }

  return out
}

async function syncEdge(node: Node, transport: Transport, services: readonly EdgeService[], image: string): Promise<EdgeResult> {
  const result: EdgeResult = {node: node.name, ok: false, answered: false, error: null, events: [], commands: [], live: new Map()}
  if (node.runtime !== 'podman') {
    // Not served: it has no proxy, so nothing waits for it to drain.
    result.error = `edge proxies run under podman; ${node.name} runs ${node.runtime}`
    result.answered = true
    return result
  }

  const runDir = edgeRunDir(node.name)
  // After the sync HAProxy runs this file's frontends (unchanged, or just reloaded): every service's backend exists.
  const backends = services.map((s) => backendName(s.name))
  const config = renderHaproxyConfig(services, {runDir})
  const digest = createHash('sha256').update(frontendsOf(services)).digest('hex').slice(0, 16)
  try {
    const synced = await transport.exec(edgeSyncArgv(runDir, image, digest), {stdin: config, timeoutMs: SYNC_TIMEOUT_MS})
    const out = parseEdgeOutput(synced.stdout)
    result.events = out.events
    const read = readAnswers(out)
    if (synced.code !== 0) result.error = edgeError(synced.code, [...out.events.filter((e) => e.startsWith('image ')), ...out.other.filter((l) => !l.includes('[NOTICE]')), synced.stderr.trim()].filter(Boolean).join('; '))
    // A proxy that did not start serves no one: nothing waits for it to drain.
    if (synced.code === 5) result.answered = true
    if (read === null || (synced.code !== 0 && synced.code !== 4)) return result
    // Refused file (4): the proxy runs the last good one, whose backends are what it has.
    result.live = liveServers(read.serversState, read.stat, synced.code === 0 ? backends : [])
    result.answered = true
    const wanted = new Map(services.map((s) => [backendName(s.name), new Set(s.servers.map((v) => v.name))]))
    // A server no service wants any more has no task behind it (it ended, or its drain is over): it goes now.
    const force = new Set<string>()
    for (const [be, list] of result.live) for (const l of list) if (!wanted.get(be)?.has(l.name)) force.add(l.name)
    const {commands} = runtimeCommands(result.live, services, {force})
    if (commands.length > 0) {
      result.commands = commands
      const sent = await transport.exec(edgeCommandsArgv(runDir), {stdin: edgeCommandsInput(commands), timeoutMs: SYNC_TIMEOUT_MS})
      const answered = parseEdgeOutput(sent.stdout)
      const after = readAnswers(answered)
      if (sent.code !== 0 || after === null) {
        result.error = edgeError(sent.code, sent.stderr.trim())
        return result
      }

      result.live = liveServers(after.serversState, after.stat, backends)
      const failed = failedAnswers(answered)
      if (failed.length > 0) result.error = `the runtime API refused ${failed.map((f) => `\`${f.command}\`: ${f.answer.trim()}`).join('; ')} (the next pass tries again)`
    }

    result.ok = result.error === null
  } catch (error) {
    result.error = (error as Error).message
  }

  return result
}

function edgeError(code: number | null, words: string): string {
  const what =
    code === 3 ? 'its run directory cannot be written (the edge proxy needs root or sudo)'
    : code === 4 ? 'HAProxy refused the new configuration; the proxy keeps the last good one'
    : code === 5 ? 'the proxy container did not start (is the edge image there? `clusterctl edge image`, `clusterctl image push`)'
    : code === 6 ? 'its admin socket did not answer'
    : `the edge sync exited ${code ?? 'on a signal'}`
  return words ? `${what}: ${words}` : what
}

/** Every edge brought to `services`, in parallel. */
export async function syncEdges(edges: readonly Node[], transportOf: (node: Node) => Transport, services: readonly EdgeService[], image: string, concurrency: number): Promise<EdgeResult[]> {
  const results: EdgeResult[] = []
  await forEachLimited(edges, concurrency, async (node) => {
    results.push(await syncEdge(node, transportOf(node), services, image))
  })
  return results.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
}

/**
 * What each edge says of one task's server: its view, null when it does not have it,
 * 'unknown' when its backends could not be read (it may still send the server traffic).
 */
export function viewsOf(results: readonly EdgeResult[], jobName: string, taskId: string): Array<EdgeServerView | null | 'unknown'> {
  const be = backendName(jobName)
  return results.map((r) => {
    if (!r.answered) return 'unknown'
    const s = r.live.get(be)?.find((l) => l.name === taskId)
    return s ? {state: s.state, connections: s.connections} : null
  })
}

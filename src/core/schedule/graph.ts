/**
 * The dependency graph of jobs (`after: [PARENT...]`): checks at submit (unknown
 * parents, cycles, each named with its path) and the graph `jobs graph` shows.
 * Linear in jobs + edges.
 */
import {UserError} from '../errors.js'

export interface GraphJob {
  name: string
  after: readonly string[]
  schedule: string | null
  /** Start order (spec `dependsOn`): checked with `after` for unknown names and cycles. */
  dependsOn?: readonly string[]
}

export interface GraphNode extends GraphJob {
  children: string[]
}

export interface JobGraph {
  /** In a stable order: roots first, then by depth (parents before children), then by name. */
  nodes: GraphNode[]
  edges: Array<{parent: string; child: string}>
}

/** Refuses unknown parents and cycles, naming the path (`a -> b -> c -> a`). */
export function checkGraph(jobs: readonly GraphJob[]): void {
  const byName = new Map(jobs.map((j) => [j.name, j]))
  for (const job of jobs) {
    for (const parent of job.after) {
      if (!byName.has(parent)) throw new UserError(`Job ${job.name} runs after ${parent}, which does not exist.`, {code: 'invalid-spec', hint: `Submit ${parent} first (or in the same file), or drop it from ${job.name}'s after.`})
    }

    for (const dep of job.dependsOn ?? []) {
      if (!byName.has(dep)) throw new UserError(`Job ${job.name} depends on ${dep}, which does not exist.`, {code: 'invalid-spec', hint: `Submit ${dep} first (or in the same file), or drop it from ${job.name}'s dependsOn.`})
    }
  }

  const cycle = findCycle(byName)
  if (cycle) throw new UserError(`Jobs depend on each other in a cycle: ${cycle.join(' -> ')}.`, {code: 'invalid-spec', hint: `Remove one of these from the next one's after (or dependsOn).`})
}

/** A cycle as a path from a job back to itself (parent -> child order), or null. Iterative DFS. */
function findCycle(byName: ReadonlyMap<string, GraphJob>): string[] | null {
  const state = new Map<string, 1 | 2>() // 1: on the stack, 2: done
  for (const root of [...byName.keys()].sort()) {
    if (state.has(root)) continue
    const stack: Array<{name: string; i: number}> = [{name: root, i: 0}]
    state.set(root, 1)
    while (stack.length > 0) {
      const top = stack.at(-1)!
      const job = byName.get(top.name)
      const parents = job ? [...job.after, ...(job.dependsOn ?? [])] : []
      if (top.i >= parents.length) {
        state.set(top.name, 2)
        stack.pop()
        continue
      }

      const parent = parents[top.i++]!
      if (state.get(parent) === 1) {
        // Walking parents: the stack from `parent` to top is a child -> parent chain; print parent -> child.
        const from = stack.findIndex((f) => f.name === parent)
        return [...stack.slice(from).map((f) => f.name), parent].reverse()
      }

      if (!state.has(parent) && byName.has(parent)) {
        state.set(parent, 1)
        stack.push({name: parent, i: 0})
      }
    }
  }

  return null
}

/** Jobs that run after `name`. */
export function childrenOf(jobs: readonly GraphJob[], name: string): string[] {
  return jobs.filter((j) => j.after.includes(name)).map((j) => j.name).sort()
}

/** The whole graph, or (with `root`) the jobs connected to it: its ancestors and descendants. */
export function graphOf(jobs: readonly GraphJob[], root?: string): JobGraph {
  const children = new Map<string, string[]>()
  for (const j of jobs) for (const p of j.after) children.set(p, [...(children.get(p) ?? []), j.name])
  const byName = new Map(jobs.map((j) => [j.name, j]))
  let keep: Set<string>
  if (root === undefined) keep = new Set(byName.keys())
  else {
    keep = new Set([root])
    for (const next of [(n: string) => byName.get(n)?.after ?? [], (n: string) => children.get(n) ?? []]) {
      const queue = [root]
      while (queue.length > 0) {
        for (const m of next(queue.pop()!)) {
          if (!keep.has(m)) {
            keep.add(m)
            queue.push(m)
          }
        }
      }
    }
  }

  // Depth: the longest parent chain above a job (its parents come first).
  const depth = new Map<string, number>()
  const depthOf = (name: string): number => {
    const stack = [name]
    while (stack.length > 0) {
      const n = stack.at(-1)!
      if (depth.has(n)) {
        stack.pop()
        continue
      }

      const parents = (byName.get(n)?.after ?? []).filter((p) => byName.has(p))
      const missing = parents.filter((p) => !depth.has(p))
      if (missing.length > 0) stack.push(...missing)
      else {
        depth.set(n, parents.length === 0 ? 0 : 1 + Math.max(...parents.map((p) => depth.get(p)!)))
        stack.pop()
      }
    }

    return depth.get(name)!
  }

  const names = [...keep].filter((n) => byName.has(n))
  const order = names.map((n) => ({n, d: depthOf(n)})).sort((a, b) => a.d - b.d || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0))
  const nodes = order.map(({n}) => ({...byName.get(n)!, after: [...byName.get(n)!.after], children: (children.get(n) ?? []).filter((c) => keep.has(c)).sort()}))
  const edges = nodes.flatMap((node) => node.after.filter((p) => keep.has(p)).map((parent) => ({parent, child: node.name})))
  return {nodes, edges}
}

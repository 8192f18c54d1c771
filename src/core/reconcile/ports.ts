/**
 * Host ports in use, per node, as the scheduler must see them (pure). A port is free only
 * when no live container holds it: the recorded tasks that hold one (including those
 * about to stop in this pass, whose containers still run while their replacements
 * start: make-before-break), and every container observed running, whoever owns it
 * (an orphan, a task forgotten with `node rm --force`). Nodes on one machine (several
 * names for one address) share one port space: each sees the ports of all.
 */
import {machineOf, type Node} from '../model/node.js'
import {isLive, type Task} from '../model/task.js'
import type {NodeObservation} from './diff.js'

export function heldPorts(nodes: readonly Pick<Node, 'id' | 'resolvedAddress'>[], tasks: readonly Task[], observed: ReadonlyMap<string, NodeObservation>): Map<string, number[]> {
  const machine = new Map(nodes.map((n) => [n.id, machineOf(n)]))
  const byMachine = new Map<string, Set<number>>()
  const add = (nodeId: string | null, ports: Iterable<number>): void => {
    const m = nodeId === null ? undefined : machine.get(nodeId)
    if (m === undefined) return
    let set = byMachine.get(m)
    if (set === undefined) {
      set = new Set()
      byMachine.set(m, set)
    }
    for (const p of ports) set.add(p)
  }

  for (const t of tasks) if (isLive(t.state) && t.state !== 'pending') add(t.nodeId, t.hostPorts.map((h) => h.hostPort))
  for (const [nodeId, obs] of observed) {
    if (!obs.ok) continue
    for (const c of obs.containers) if (c.state !== 'exited' && c.hostPorts) add(nodeId, c.hostPorts)
  }

  const out = new Map<string, number[]>()
  for (const n of nodes) out.set(n.id, [...(byMachine.get(machine.get(n.id)!) ?? [])].sort((a, b) => a - b))
  return out
}

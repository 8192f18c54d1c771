import {schedule} from '../src/core/scheduler/schedule.js'
import {emptyNodes, itemsAsWork, packingInstances} from './packing.js'
for (const inst of packingInstances().filter((i) => i.family.startsWith('perfect'))) {
  const t0 = Date.now()
  const plan = schedule(emptyNodes(inst.optimum * 2 + 2, inst.capacity), itemsAsWork(inst.items), {seed: 42})
  console.log(inst.name, inst.optimum, new Set(plan.placements.map((p) => p.nodeId)).size, Date.now() - t0, 'ms')
}

import {expect} from 'chai'
import fc from 'fast-check'
import fs from 'node:fs'
import path from 'node:path'

import {adviceFor, blocksWork, findingsOf, nextConditions, recommendsDrain} from '../../../../src/core/health/conditions.js'
import {parseHealthProbe, parseKernelLine} from '../../../../src/core/health/parse.js'
import type {Finding, HealthSample, NodeCondition} from '../../../../src/core/model/health.js'
import {aSample} from './fixtures.js'

const fixture = (name: string): string => fs.readFileSync(path.join(import.meta.dirname, '../../../fixtures/health', name), 'utf8')
const Mi = 1024 ** 2
const Gi = 1024 ** 3


const types = (fs: readonly Finding[]): string[] => fs.map((f) => `${f.type}:${f.severity}:${f.reason}`).sort()

describe('core/health/conditions', () => {
  it('a memory cgroup OOM kill as this machine\'s kernel logged it (captured in the e2e OOM test) is OOMKilling from the kernel log', () => {
    // Real output: the kernel line of the testbed container killed by its 16Mi limit (Debian 12, Linux 6.1).
    const line = parseKernelLine('[51669.470728] Memory cgroup out of memory: Killed process 28583 (sh) total-vm:26852kB, anon-rss:15972kB, file-rss:1520kB, shmem-rss:0kB, UID:0 pgtables:80kB oom_score_adj:0')
    expect(line.at).to.equal(51669.470728)
    const findings = findingsOf(aSample({uptimeSeconds: 51700, kernel: [line]}), aSample())
    expect(findings.map((f) => [f.type, f.reason])).to.deep.equal([['OOMKilling', 'KernelOOMKill']])
    // Outside the kernel-log window (10 min) it is history, not a finding.
    expect(findingsOf(aSample({uptimeSeconds: 51669 + 3600, kernel: [line]}), aSample())).to.deep.equal([])
  })

  it('a healthy sample has no findings (the captured Debian VM)', () => {
    expect(findingsOf(aSample(), aSample())).to.deep.equal([])
    const vm = parseHealthProbe(fixture('debian12-vm.txt'), 0)
    expect(findingsOf(vm, vm)).to.deep.equal([])
  })

  it('the faulty host: every fault is a finding, the worst severity per type', () => {
    const before = {...parseHealthProbe(fixture('faulty-gpu-host.txt'), 0), oomKills: 5, runtime: {ok: false, detail: 'exit 1'}, edac: [{controller: 'mc0', correctable: 10, uncorrectable: 0}]}
    const s = parseHealthProbe(fixture('faulty-gpu-host.txt'), 30_000)
    expect(types(findingsOf(s, before))).to.deep.equal([
      'ClockUnsynchronized:warning:NTPNotSynchronized',
      'ConntrackPressure:warning:ConntrackNearLimit',
      'DiskPressure:warning:LowDiskSpace',
      'FilesystemShutdown:critical:FilesystemShutdown',
      'GPUError:critical:GPUXidCritical',
      'KernelIOError:warning:IOErrors',
      'MemoryECC:critical:UncorrectableECC',
      'MemoryPressure:warning:LowMemory',
      'OOMKilling:warning:OOMKill',
      'Overheating:warning:HighTemperature',
      'PIDPressure:warning:PIDsNearLimit',
      'RAIDDegraded:warning:ArrayDegraded',
      'ReadOnlyFilesystem:warning:MountedReadOnly',
      'RuntimeUnhealthy:warning:RuntimeNotAnswering',
      'SMARTFailing:critical:HealthCheckFailed',
    ])
    // The OOM line of the kernel log is 86,000 s old: outside the 10 min window, only the counter's delta counts.
    expect(findingsOf(s, before).find((f) => f.type === 'OOMKilling')!.message).to.equal('2 processes killed by the OOM killer since the last probe')
  })

  it('thresholds: memory < 100Mi or < 10 %, disk < 10 %, inodes < 5 %, clock > 50 ms, limits > 90 %', () => {
    const f = (init: Partial<HealthSample>): string[] => types(findingsOf(aSample(init), aSample()))
    expect(f({memory: {totalBytes: 8 * Gi, availableBytes: 99 * Mi}})).to.deep.equal(['MemoryPressure:warning:LowMemory'])
    expect(f({memory: {totalBytes: 100 * Gi, availableBytes: 9 * Gi}})).to.deep.equal(['MemoryPressure:warning:LowMemory'])
    expect(f({memory: {totalBytes: 100 * Gi, availableBytes: 11 * Gi}})).to.deep.equal([])
    const disk = (free: number, inodesFree = 900) => f({filesystems: [{path: '/', mount: '/', fsType: 'ext4', sizeBytes: 100 * Gi, freeBytes: free, inodes: 1000, inodesFree, readOnly: false}]})
    expect(disk(9.9 * Gi)).to.deep.equal(['DiskPressure:warning:LowDiskSpace'])
    expect(disk(10 * Gi)).to.deep.equal([])
    expect(disk(50 * Gi, 49)).to.deep.equal(['DiskPressure:warning:LowInodes'])
    expect(f({clock: {synchronized: true, offsetMs: -51}})).to.deep.equal(['ClockUnsynchronized:warning:ClockSkew'])
    expect(f({clock: {synchronized: null, offsetMs: 50}})).to.deep.equal([])
    expect(f({limits: {conntrack: null, pids: [29500, 32768], files: null}})).to.deep.equal(['PIDPressure:warning:PIDsNearLimit'])
  })

  it('counters are deltas: OOM kills and correctable ECC only when they rose since the previous sample; the runtime only after two failures', () => {
    expect(findingsOf(aSample({oomKills: 9}), aSample({oomKills: 9}))).to.deep.equal([])
    expect(findingsOf(aSample({oomKills: 9}), null)).to.deep.equal([])
    expect(types(findingsOf(aSample({oomKills: 10}), aSample({oomKills: 9})))).to.deep.equal(['OOMKilling:warning:OOMKill'])
    const mc = (ce: number) => ({edac: [{controller: 'mc0', correctable: ce, uncorrectable: 0}]})
    expect(findingsOf(aSample(mc(5)), aSample(mc(5)))).to.deep.equal([])
    expect(types(findingsOf(aSample(mc(6)), aSample(mc(5))))).to.deep.equal(['MemoryECC:warning:CorrectableECC'])
    const down = {runtime: {ok: false, detail: 'no answer within 8s'}}
    expect(findingsOf(aSample(down), aSample())).to.deep.equal([])
    expect(types(findingsOf(aSample(down), aSample(down)))).to.deep.equal(['RuntimeUnhealthy:warning:RuntimeNotAnswering'])
  })

  it('kernel lines: recent ones by the node uptime, each mapped to its condition (Xid 79 critical, other Xids a warning)', () => {
    const k = (text: string, at = 990) => types(findingsOf(aSample({kernel: [{at, text}]}), null))
    expect(k('EXT4-fs (dm-0): Remounting filesystem read-only')).to.deep.equal(['ReadOnlyFilesystem:warning:KernelRemountedReadOnly'])
    expect(k('NVRM: Xid (PCI:0000:3b:00): 79, pid=1, GPU has fallen off the bus.')).to.deep.equal(['GPUError:critical:GPUXidCritical'])
    expect(k('NVRM: Xid (PCI:0000:3b:00): 13, pid=1, Graphics Exception')).to.deep.equal(['GPUError:warning:GPUXid'])
    expect(k('INFO: task jbd2/sda1-8:123 blocked for more than 120 seconds.')).to.deep.equal(['HungTask:warning:TaskHung'])
    expect(k('EXT4-fs (dm-0): Remounting filesystem read-only', 100)).to.deep.equal([]) // 900 s ago
  })

  it('blocking and draining: pressure conditions block new work, critical ones also recommend a drain; every type has advice', () => {
    expect(blocksWork({type: 'DiskPressure', severity: 'warning'})).to.equal(true)
    expect(blocksWork({type: 'OOMKilling', severity: 'warning'})).to.equal(false)
    expect(blocksWork({type: 'SMARTFailing', severity: 'critical'})).to.equal(true)
    expect(recommendsDrain({severity: 'critical'})).to.equal(true)
    expect(recommendsDrain({severity: 'warning'})).to.equal(false)
    const all = findingsOf(parseHealthProbe(fixture('faulty-gpu-host.txt'), 0), null)
    for (const f of all) expect(adviceFor(f), f.type).not.to.equal('See docs/health.md.')
  })

  describe('the state machine (nextConditions)', () => {
    const disk: Finding = {type: 'DiskPressure', severity: 'warning', reason: 'LowDiskSpace', message: '/ 5% free'}
    const T = 5 * 60_000

    it('raises at once, keeps since while found, clears only after the transition period without it', () => {
      const a = nextConditions([], [disk], 1000, T)
      expect(a.changes.map((c) => c.kind)).to.deep.equal(['raised'])
      expect(a.conditions).to.deep.equal([{...disk, since: 1000, lastSeen: 1000}])
      const b = nextConditions(a.conditions, [{...disk, message: '/ 4% free'}], 31_000, T)
      expect(b.changes).to.deep.equal([])
      expect(b.conditions).to.deep.equal([{...disk, message: '/ 4% free', since: 1000, lastSeen: 31_000}])
      const c = nextConditions(b.conditions, [], 31_000 + T - 1, T)
      expect(c.conditions).to.have.length(1)
      const d = nextConditions(c.conditions, [], 31_000 + T, T)
      expect(d.conditions).to.deep.equal([])
      expect(d.changes.map((x) => x.kind)).to.deep.equal(['cleared'])
    })

    it('a change of severity or reason is an event; critical conditions sort first', () => {
      const a = nextConditions([], [disk, {type: 'SMARTFailing', severity: 'warning', reason: 'BadSectors', message: 'x'}], 0, T)
      const b = nextConditions(a.conditions, [disk, {type: 'SMARTFailing', severity: 'critical', reason: 'HealthCheckFailed', message: 'y'}], 30_000, T)
      expect(b.changes.map((c) => `${c.kind} ${c.condition.type}`)).to.deep.equal(['changed SMARTFailing'])
      expect(b.conditions.map((c) => c.type)).to.deep.equal(['SMARTFailing', 'DiskPressure'])
    })

    it('property: a finding present at a probe is a condition after it; a condition never flaps within the transition period', () => {
      const findingArb = fc.constantFrom<Finding>(disk, {type: 'MemoryPressure', severity: 'warning', reason: 'LowMemory', message: 'm'}, {type: 'GPUError', severity: 'critical', reason: 'GPUXid', message: 'g'})
      fc.assert(
        fc.property(fc.array(fc.record({dt: fc.integer({min: 1, max: 10 * 60_000}), found: fc.uniqueArray(findingArb, {selector: (f) => f.type})}), {maxLength: 30}), (probes) => {
          let now = 0
          let conditions: NodeCondition[] = []
          const lastFound = new Map<string, number>()
          for (const p of probes) {
            now += p.dt
            const r = nextConditions(conditions, p.found, now, T)
            for (const f of p.found) lastFound.set(f.type, now)
            for (const f of p.found) expect(r.conditions.some((c) => c.type === f.type)).to.equal(true)
            for (const c of r.changes.filter((x) => x.kind === 'cleared')) expect(now - lastFound.get(c.condition.type)!).to.be.at.least(T)
            conditions = r.conditions
          }
        }),
      )
    })
  })
})

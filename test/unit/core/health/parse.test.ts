import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {parseClock, parseHealthProbe, parseMdstat, parseNvidia, parseNvidiaRows, parsePsi, parseSmart} from '../../../../src/core/health/parse.js'
import {healthProbeArgv} from '../../../../src/core/health/probe.js'

const fixture = (name: string): string => fs.readFileSync(path.join(import.meta.dirname, '../../../fixtures/health', name), 'utf8')
const Ki = 1024
const which = (cmd: string): string | null => {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], {encoding: 'utf8'}).trim() || null
  } catch {
    return null
  }
}

describe('core/health/parse', () => {
  it('a real probe of a Debian 12 VM (captured): memory, PSI, OOM counter, filesystems, limits, runtime', () => {
    const s = parseHealthProbe(fixture('debian12-vm.txt'), 1000)
    expect(s.at).to.equal(1000)
    expect(s.uptimeSeconds).to.be.a('number')
    expect(s.memory.totalBytes).to.equal(24683548 * Ki)
    expect(s.memory.availableBytes).to.equal(23854628 * Ki)
    expect(s.psi.cpu).to.deep.equal({some10: 79.23, full10: 0})
    expect(s.psi.memory).to.deep.equal({some10: 0, full10: 0})
    expect(s.oomKills).to.equal(0)
    expect(s.filesystems.map((f) => f.path)).to.deep.equal(['/', '/var/lib/containers', '/tmp'])
    expect(s.filesystems[0]).to.deep.equal({path: '/', mount: '/', fsType: 'ext4', sizeBytes: 264212084 * Ki, freeBytes: 82870044 * Ki, inodes: 16777216, inodesFree: 16313669, readOnly: false})
    expect(s.limits).to.deep.equal({conntrack: [0, 262144], pids: [118, 32768], files: [1180, 2466112]})
    expect(s.runtime).to.deep.equal({ok: true, detail: null})
    expect(s.kernel).to.deep.equal([])
    expect(s.clock).to.deep.equal({synchronized: null, offsetMs: null})
  })

  it('a faulty host (fixture of real formats): read-only XFS store, kernel log, EDAC, hwmon, degraded md, SMART, nvidia-smi, chrony', () => {
    const s = parseHealthProbe(fixture('faulty-gpu-host.txt'), 0)
    const store = s.filesystems.find((f) => f.path === '/var/lib/containers')!
    expect(store).to.deep.include({mount: '/var/lib/containers', fsType: 'xfs', readOnly: true, freeBytes: 57599488 * Ki, inodesFree: 1946112})
    expect(s.filesystems.find((f) => f.path === '/')!.readOnly).to.equal(false) // errors=remount-ro is not ro
    expect(s.kernel).to.have.length(5)
    expect(s.kernel[3]).to.deep.equal({at: 86200.5, text: 'NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, GPU has fallen off the bus.'})
    expect(s.edac).to.deep.equal([{controller: 'mc0', correctable: 12, uncorrectable: 0}, {controller: 'mc1', correctable: 3, uncorrectable: 2}])
    expect(s.temperatures).to.deep.equal([
      {sensor: 'coretemp/temp1', celsius: 97, criticalCelsius: 100},
      {sensor: 'coretemp/temp2', celsius: 55, criticalCelsius: 100},
      {sensor: 'nvme/temp1', celsius: 45.85, criticalCelsius: null},
      {sensor: 'thermal/x86_pkg_temp', celsius: 97, criticalCelsius: null},
    ])
    expect(s.raid).to.deep.equal([
      {device: 'md0', degraded: true, status: 'active raid1 sdb1[1] sda1[0](F) [_U]'},
      {device: 'md1', degraded: false, status: 'active raid1 sdd1[1] sdc1[0] [UU]'},
    ])
    expect(s.smart).to.deep.equal([
      {device: '/dev/sda', passed: false, reallocated: 2008, pending: 16, uncorrectable: 3},
      {device: '/dev/sdb', passed: true, reallocated: 0, pending: 0, uncorrectable: null},
      {device: '/dev/nvme0', passed: true, reallocated: null, pending: null, uncorrectable: 0},
    ])
    expect(s.gpus).to.deep.equal([
      {index: 0, eccUncorrected: 0, retiredPending: false, remappedPending: false},
      {index: 1, eccUncorrected: 4, retiredPending: null, remappedPending: true},
    ])
    expect(s.clock).to.deep.equal({synchronized: false, offsetMs: -83.211})
    expect(s.runtime).to.deep.equal({ok: false, detail: 'no answer within 8s'})
    expect(s.limits.pids).to.deep.equal([30000, 32768])
  })

  it('a host with none of the tools: every field empty or null, no exception', () => {
    const s = parseHealthProbe(fixture('busybox-no-tools.txt'), 5)
    expect(s.memory).to.deep.equal({totalBytes: null, availableBytes: null})
    expect(s.psi).to.deep.equal({memory: null, io: null, cpu: null})
    expect(s.oomKills).to.equal(null)
    expect(s.filesystems).to.deep.equal([])
    expect(s.limits).to.deep.equal({conntrack: null, pids: null, files: null})
    expect(s.runtime).to.deep.equal({ok: false, detail: 'the runtime binary is missing'})
    // And garbage, or nothing at all:
    expect(() => parseHealthProbe('', 0)).not.to.throw()
    expect(() => parseHealthProbe('@@@clusterctl:df\n/ a b c d e f g h\n@@@clusterctl:smart\n== \nfoo: bar\n', 0)).not.to.throw()
  })

  it('section parsers on their own: PSI, mdstat, SMART, nvidia-smi, clock', () => {
    expect(parsePsi(['some avg10=1.50 avg60=0.00 avg300=0.00 total=5'])).to.deep.equal({some10: 1.5, full10: null})
    expect(parsePsi([])).to.equal(null)
    expect(parseMdstat(['md127 : active raid5 sdc[2] sdb[1] sda[0]', '      100 blocks level 5, 512k chunk [3/3] [UUU]'])).to.deep.equal([{device: 'md127', degraded: false, status: 'active raid5 sdc[2] sdb[1] sda[0] [UUU]'}])
    expect(parseSmart(['== /dev/sdz', 'SMART Health Status: OK'])).to.deep.equal([{device: '/dev/sdz', passed: true, reallocated: null, pending: null, uncorrectable: null}])
    expect(parseNvidia(['0, Tesla K80, 11441, 00000000:04:00.0, [N/A], [N/A], [N/A]'])).to.deep.equal([{index: 0, eccUncorrected: null, retiredPending: null, remappedPending: null}])
    // A driver that refused the health fields: the fallback query's four columns.
    expect(parseNvidiaRows(['0, Tesla K80, 11441, 00000000:04:00.0'])).to.deep.equal([{index: 0, name: 'Tesla K80', memoryMiB: 11441, busId: '00000000:04:00.0', eccUncorrected: null, retiredPending: null, remappedPending: null}])
    expect(parseClock(['synchronized=yes', 'System time     : 0.000012000 seconds fast of NTP time'])).to.deep.equal({synchronized: true, offsetMs: 0.012})
  })

  describe('the real script on this machine', () => {
    const shells = ['dash', 'bash', 'busybox'].map((s) => [s, which(s)] as const).filter(([, p]) => p !== null)
    for (const [name, bin] of shells) {
      it(`runs under ${name} and parses: / is watched, a path that does not exist is left out, a kernel log file is read`, () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cctl-probe-'))
        try {
          const klog = path.join(dir, 'kmsg')
          fs.writeFileSync(klog, `[    1.000000] Linux version 6.1\n[  200.250000] EXT4-fs (loop0): Remounting filesystem read-only\n`)
          const argv = healthProbeArgv({paths: [dir, path.join(dir, 'missing')], kernelLog: klog, smartCache: path.join(dir, 'smart.cache'), runtime: 'containerd'})
          const shellArgv = name === 'busybox' ? ['sh', ...argv.slice(1)] : argv.slice(1)
          const env = {...process.env, CONTAINERD_ADDRESS: path.join(dir, 'no.sock')}
          const out = execFileSync(bin!, shellArgv, {encoding: 'utf8', env, timeout: 30_000})
          const s = parseHealthProbe(out, 0)
          expect(s.filesystems.map((f) => f.path)).to.deep.equal(['/', dir])
          expect(s.filesystems[1]!.sizeBytes).to.be.greaterThan(0)
          expect(s.memory.totalBytes).to.be.greaterThan(0)
          // dash's `read` would give only the first byte of /proc/sys files: the script uses cat.
          expect(s.limits.pids![1]).to.be.greaterThan(9)
          expect(s.kernel).to.deep.equal([{at: 200.25, text: 'EXT4-fs (loop0): Remounting filesystem read-only'}])
          expect(s.runtime).to.deep.equal({ok: false, detail: 'no containerd socket (is the containerd daemon running?)'})
        } finally {
          fs.rmSync(dir, {recursive: true, force: true})
        }
      })
    }
  })
})

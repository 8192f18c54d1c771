import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'

import {parseHealthProbe} from '../../../../src/core/health/parse.js'
import {EDAC_SECTION, NVIDIA_SECTION} from '../../../../src/core/health/probe.js'
import {parseInventory, splitSections} from '../../../../src/core/inventory/parse.js'
import {inventoryProbeArgv, SECTION_MARK} from '../../../../src/core/inventory/probe.js'
import {detectedResources} from '../../../../src/core/model/node.js'

const fixture = (name: string) => fs.readFileSync(new URL(`../../../fixtures/probe/${name}`, import.meta.url), 'utf8')
const timing = {sentAt: 1_795_575_705_900, receivedAt: 1_795_575_706_100}

describe('core/inventory', () => {
  it('the probe is one sh invocation that marks its sections', () => {
    const argv = inventoryProbeArgv()
    expect(argv.slice(0, 2)).to.deep.equal(['sh', '-c'])
    expect(argv[2]).to.include(SECTION_MARK)
  })

  it('parses a Debian 12 VM', () => {
    const inv = parseInventory(fixture('debian12-vm.txt'), timing)
    expect(inv.hostname).to.equal('vm')
    expect(inv.os).to.deep.equal({id: 'debian', name: 'Debian GNU/Linux', version: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)'})
    expect(inv.kernel).to.equal('6.18.44-fc-v669')
    expect(inv.arch).to.equal('x86_64')
    expect(inv.cpu).to.deep.equal({model: 'AMD EPYC', sockets: 1, cores: 2, threads: 2})
    expect(inv.memory.totalBytes).to.equal(24684084 * 1024)
    expect(inv.memory.availableBytes).to.be.a('number')
    expect(inv.disks.map((d) => d.mount)).to.deep.equal(['/'])
    expect(inv.dataDisk).to.include({mount: '/', device: '/dev/vda', fsType: 'ext4', sizeBytes: 264212084 * 1024})
    expect(inv.gpus).to.deep.equal([])
    expect(inv.network.find((n) => n.name === 'eth0')).to.deep.include({mac: '02:fc:00:00:00:01', state: 'up'})
    expect(inv.network.find((n) => n.name === 'eth0')!.addresses).to.include('192.0.2.2/24')
    expect(inv.runtimes.podman).to.deep.equal({version: '4.3.1', usable: true, problem: null})
    expect(inv.runtimes.containerd.usable).to.equal(false)
    expect(inv.runtimes.containerd.version).to.equal('1.6.20~ds1')
    expect(inv.runtimes.containerd.problem).to.equal("containerd is not answering: no containerd socket at /run/containerd/containerd.sock (is the containerd daemon running?)")
    expect(inv.cgroupVersion).to.equal(1)
    expect(inv.load).to.have.keys('one', 'five', 'fifteen')
    expect(inv.uptimeSeconds).to.be.greaterThan(0)
    expect(inv.clockOffsetMs).to.be.a('number')
    expect(inv.probeMs).to.equal(200)
    expect(detectedResources(inv)).to.deep.equal({cpuMilli: 2000, memBytes: 24684084 * 1024, diskBytes: 264212084 * 1024, gpus: 0})
  })

  it('says whose podman storage was used: rootful or rootless, and where', () => {
    const text = fixture('debian12-vm.txt')
    const rootful = parseInventory(text.replace('rc=0\nrunc overlay\n', 'rc=0\nrunc overlay false /var/lib/containers/storage\n'), timing)
    expect(rootful.runtimes.podman).to.deep.equal({version: '4.3.1', usable: true, problem: null, storage: 'rootful (/var/lib/containers/storage)'})
    const rootless = parseInventory(text.replace('rc=0\nrunc overlay\n', 'rc=0\nrunc overlay true /home/ann/.local/share/containers/storage\n'), timing)
    expect(rootless.runtimes.podman.storage).to.equal('rootless (/home/ann/.local/share/containers/storage)')
  })

  it('gives empty fields, never an exception, on a host with no tools at all', () => {
    const inv = parseInventory(fixture('no-tools.txt'), timing)
    expect(inv.hostname).to.equal(null)
    expect(inv.cpu).to.deep.equal({model: null, sockets: null, cores: null, threads: null})
    expect(inv.memory).to.deep.equal({totalBytes: null, availableBytes: null, edacControllers: 0})
    expect(inv.disks).to.deep.equal([])
    expect(inv.gpus).to.deep.equal([])
    expect(inv.network).to.deep.equal([])
    expect(inv.runtimes.podman).to.deep.equal({version: null, usable: false, problem: 'podman is not installed (not found on PATH)'})
    expect(inv.runtimes.containerd.usable).to.equal(false)
    expect(inv.clockOffsetMs).to.equal(null)
    expect(detectedResources(inv)).to.deep.equal({cpuMilli: 0, memBytes: 0, diskBytes: 0, gpus: 0})
  })

  it('never throws on truncated or garbled output', () => {
    const full = fixture('debian12-vm.txt')
    for (let cut = 0; cut < full.length; cut += 97) {
      expect(() => parseInventory(full.slice(0, cut), timing)).not.to.throw()
      expect(() => parseInventory(full.slice(cut), timing)).not.to.throw()
    }
  })

  it('reads the GPUs and EDAC of the health probe\'s own sections with its parser: one query, one count', () => {
    const faulty = fs.readFileSync(new URL('../../../fixtures/health/faulty-gpu-host.txt', import.meta.url), 'utf8')
    const inv = parseInventory(faulty, timing)
    const health = parseHealthProbe(faulty, 0)
    expect(inv.gpus.map((g) => [g.model, g.busId])).to.deep.equal([['NVIDIA A100-SXM4-80GB', '00000000:3B:00.0'], ['NVIDIA A100-SXM4-80GB', '00000000:5E:00.0']])
    expect(inv.gpus.length).to.equal(health.gpus.length)
    expect(inv.memory.edacControllers).to.equal(health.edac.length).and.to.equal(2)
    expect(inventoryProbeArgv()[2]).to.include(NVIDIA_SECTION).and.to.include(EDAC_SECTION)
  })

  it('reads GPUs from nvidia-smi first, then lspci, then sysfs', () => {
    const sections = (body: Record<string, string>) => Object.entries(body).map(([k, v]) => `${SECTION_MARK}${k}\n${v}`).join('\n')
    const nv = parseInventory(sections({nvidia: '0, NVIDIA A100-SXM4-40GB, 40960, 00000000:07:00.0\n1, NVIDIA A100-SXM4-40GB, 40960, 00000000:0F:00.0', lspci: '07:00.0 "3D controller [0302]" "NVIDIA Corporation [10de]" "GA100 [20b0]"'}), timing)
    expect(nv.gpus).to.have.length(2)
    expect(nv.gpus[0]).to.deep.equal({vendor: 'NVIDIA', model: 'NVIDIA A100-SXM4-40GB', memoryBytes: 40960 * 1024 * 1024, source: 'nvidia-smi', busId: '00000000:07:00.0'})
    expect(detectedResources(nv).gpus).to.equal(2)

    const pci = parseInventory(sections({lspci: '00:02.0 "VGA compatible controller [0300]" "Cirrus Logic [1013]" "GD 5446 [00b8]" "Red Hat, Inc. [1af4]" "QEMU Virtual Machine [1100]"\n65:00.0 "3D controller [0302]" "NVIDIA Corporation [10de]" "GA100 [20b0]"'}), timing)
    expect(pci.gpus.map((g) => [g.vendor, g.model, g.source])).to.deep.equal([
      ['Cirrus Logic', 'GD 5446', 'lspci'],
      ['NVIDIA Corporation', 'GA100', 'lspci'],
    ])
    // A virtual display adapter is not a GPU to schedule on; the NVIDIA board is.
    expect(detectedResources(pci).gpus).to.equal(1)

    const sys = parseInventory(sections({pci_sysfs: '0000:00:02.0 0x030000 0x1234 0x1111'}), timing)
    expect(sys.gpus).to.deep.equal([{vendor: 'QEMU', model: 'PCI device 0x1234:0x1111', memoryBytes: null, source: 'sysfs', busId: '0000:00:02.0'}])
    expect(detectedResources(sys).gpus).to.equal(0)
  })

  it('computes the clock offset from the node\'s last reading and the arrival of its answer', () => {
    const out = `${SECTION_MARK}time_start\n${(timing.sentAt + 5000) * 1e6}\n${SECTION_MARK}time_end\n${(timing.receivedAt + 5000) * 1e6}\n`
    // the start reading does not matter when there is an end reading (the handshake delays it)
    expect(parseInventory(out, timing).clockOffsetMs).to.equal(5000)
    const seconds = `${SECTION_MARK}time_start\n${Math.round(timing.sentAt / 1000)}\n`
    expect(Math.abs(parseInventory(seconds, timing).clockOffsetMs!)).to.be.lessThan(1000)
  })

  it('matches this machine when run through a real shell', () => {
    const argv = inventoryProbeArgv()
    const sentAt = Date.now()
    const out = execFileSync(argv[0]!, argv.slice(1), {encoding: 'utf8'})
    const inv = parseInventory(out, {sentAt, receivedAt: Date.now()})
    expect(inv.cpu.threads).to.equal(Number(execFileSync('nproc', {encoding: 'utf8'}).trim()))
    const memTotalKb = Number(/MemTotal:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1])
    expect(inv.memory.totalBytes).to.equal(memTotalKb * 1024)
    expect(inv.hostname).to.equal(os.hostname())
    expect(Math.abs(inv.clockOffsetMs!)).to.be.lessThan(1000)
    expect(splitSections(out).has('end')).to.equal(true)
  })
})

/**
 * The test bed itself, end to end: what every other e2e test relies on. Each test
 * leaves the hosts running as it found them (restart/heal in `finally`).
 */
import {expect} from 'chai'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {execa} from 'execa'

import {
  addHost,
  crashHost,
  healHost,
  hostByName,
  killSshd,
  partitionHost,
  pidAlive,
  probePort,
  rekeyHost,
  restartHost,
  setShellDelay,
  sshArgs,
  sshRun,
  SUDO_USER,
  testbedStatus,
  type Testbed,
} from '../testbed/testbed.js'
import {getTestbed} from './fixture.js'

/** OpenSSH with the test bed key, as the brief of the test bed prescribes. */
async function ssh(tb: Testbed, name: string, command: string, connectTimeoutS = 5) {
  return sshRun(tb, name, command, {connectTimeoutS, timeoutMs: 60_000})
}

async function mustSsh(tb: Testbed, name: string, command: string): Promise<string> {
  const r = await ssh(tb, name, command)
  expect(r.code, `\`${command}\` on ${name}: ${r.stderr}`).to.equal(0)
  return r.stdout
}

/** The host key a host presents now, as ssh-keyscan sees it over the network. */
async function scanHostKey(tb: Testbed, name: string): Promise<string> {
  const host = hostByName(tb, name)
  const r = await execa('ssh-keyscan', ['-T', '5', '-t', 'ed25519', '-p', String(host.port), host.ip], {reject: false})
  const line = r.stdout.split('\n').find((l) => l.startsWith(host.ip))
  expect(line, `ssh-keyscan ${host.ip}: ${r.stderr}`).to.be.a('string')
  return (line as string).split(' ').slice(1, 3).join(' ')
}

async function httpGet(url: string): Promise<{code: number; body: string}> {
  const r = await execa('curl', ['-sS', '-m', '3', url], {reject: false})
  return {code: r.exitCode ?? -1, body: r.stdout}
}

async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (ok(v)) return v
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('e2e: the test bed', function () {
  this.timeout(120_000)

  it('has h1..h3 with both runtimes and bare1 without, all running', async () => {
    const tb = getTestbed()
    expect(tb.hosts.slice(0, 4).map((h) => [h.name, h.ip, h.runtimes.join(',')])).to.deep.equal([
      ['h1', '192.168.240.11', 'podman,containerd'],
      ['h2', '192.168.240.12', 'podman,containerd'],
      ['h3', '192.168.240.13', 'podman,containerd'],
      ['bare1', '192.168.240.101', ''],
    ])
    for (const s of await testbedStatus(tb)) {
      expect(s, s.name).to.deep.include({link: 'up', ssh: 'open'})
      expect(s.holder.alive && s.sshd.alive, s.name).to.equal(true)
      if (s.containerd) expect(s.containerd.alive, s.name).to.equal(true)
    }
  })

  it('every host answers `ssh root@IP` with the test bed key, with its own hostname and runtime environment', async () => {
    const tb = getTestbed()
    for (const host of tb.hosts) {
      const r = await execa('ssh', [...sshArgs(tb, host), 'hostname; id -u; ip -4 -o addr show eth0; env'], {reject: false})
      expect(r.exitCode, `${host.name}: ${r.stderr}`).to.equal(0)
      const [hostname, uid, addr] = r.stdout.split('\n')
      expect(hostname).to.equal(host.name)
      expect(uid).to.equal('0')
      expect(addr).to.include(`${host.ip}/24`)
      for (const [k, v] of Object.entries(host.env)) expect(r.stdout, host.name).to.include(`${k}=${v}\n`)
    }
  })

  it('podman on h1 lists the test image', async () => {
    const tb = getTestbed()
    const out = await mustSsh(tb, 'h1', "podman images --format '{{.Repository}}:{{.Tag}}'")
    expect(out.split('\n')).to.include(tb.image)
  })

  it('`ctr -n clusterctl images ls` on h1 lists the test image, and tasks of the same ID run on two hosts', async () => {
    const tb = getTestbed()
    const out = await mustSsh(tb, 'h1', 'ctr -n clusterctl images ls -q')
    expect(out.split('\n')).to.include(tb.image)
    const id = 'tb-same-id'
    try {
      for (const h of ['h1', 'h2']) await mustSsh(tb, h, `ctr run -d ${tb.image} ${id} sleep 600`)
      for (const h of ['h1', 'h2']) expect(await mustSsh(tb, h, 'ctr task ls')).to.match(new RegExp(`^${id}\\s+\\d+\\s+RUNNING$`, 'm'))
    } finally {
      for (const h of ['h1', 'h2']) await ssh(tb, h, `ctr task kill -s SIGKILL ${id}; sleep 0.3; ctr task rm -f ${id}; ctr c rm ${id}`)
    }
    for (const h of ['h1', 'h2']) expect(await mustSsh(tb, h, 'ctr c ls -q')).not.to.include(id)
  })

  it('bare1 has no podman, ctr or containerd on PATH over ssh (h1 does)', async () => {
    const tb = getTestbed()
    const probe = 'for b in podman ctr containerd; do command -v $b || echo "missing $b"; done; sh -c "command -v podman || echo sh-missing"'
    expect((await mustSsh(tb, 'bare1', probe)).split('\n')).to.deep.equal(['missing podman', 'missing ctr', 'missing containerd', 'sh-missing'])
    expect((await mustSsh(tb, 'h1', probe)).split('\n')).to.deep.equal(['/usr/bin/podman', '/usr/bin/ctr', '/usr/bin/containerd', '/usr/bin/podman'])
    expect((await ssh(tb, 'bare1', 'podman --version')).code).to.equal(127)
  })

  it('a podman container on h1 with a published port answers HTTP from the machine, then is removed', async () => {
    const tb = getTestbed()
    const h1 = hostByName(tb, 'h1')
    const url = `http://${h1.ip}:18080/`
    try {
      await mustSsh(tb, 'h1', `podman run -d --name tb-web -p 18080:80 ${tb.image} httpd -f -p 80 -h /www`)
      const got = await eventually(`GET ${url}`, 10_000, () => httpGet(url), (r) => r.code === 0)
      expect(got.body).to.equal('clusterctl-test')
    } finally {
      await ssh(tb, 'h1', 'podman rm -f --time 0 tb-web')
    }
    expect(await mustSsh(tb, 'h1', "podman ps -a --format '{{.Names}}'")).not.to.include('tb-web')
    expect(await probePort(h1.ip, 18080, 2000)).to.equal('refused')
  })

  it('partition makes a host unreachable (timeouts) while its containers keep running; heal brings it back', async () => {
    const tb = getTestbed()
    const h2 = hostByName(tb, 'h2')
    await mustSsh(tb, 'h2', `podman run -d --name tb-part ${tb.image} sleep 600`)
    const pid = Number((await mustSsh(tb, 'h2', "podman inspect --format '{{.State.Pid}}' tb-part")).trim())
    try {
      await partitionHost(tb, 'h2')
      const r = await ssh(tb, 'h2', 'true', 2)
      expect(r.code).to.equal(255)
      expect(r.stderr).to.match(/timed out/i)
      expect(await probePort(h2.ip, 22, 1000)).to.equal('timeout')
      expect(pidAlive(pid), 'the container runs on during the partition').to.equal(true)
    } finally {
      await healHost(tb, 'h2')
    }
    expect((await mustSsh(tb, 'h2', "podman inspect --format '{{.State.Status}}' tb-part")).trim()).to.equal('running')
    await mustSsh(tb, 'h2', 'podman rm -f --time 0 tb-part')
  })

  it('crash kills every process of a host (timeouts); restart brings it back with the same host key and a fresh network stack, as after a reboot', async () => {
    const tb = getTestbed()
    const h3 = hostByName(tb, 'h3')
    const keyBefore = await scanHostKey(tb, 'h3')
    // a published port: podman's NAT rules for it live in the host's kernel, which a power cut resets
    await mustSsh(tb, 'h3', `podman run -d --name tb-crash -p 18081:80 ${tb.image} httpd -f -p 80 -h /www && ctr run -d ${tb.image} tb-crash sleep 600`)
    const [conmon, ctrPid] = (await mustSsh(tb, 'h3', "podman inspect --format '{{.State.ConmonPid}} {{.State.Pid}}' tb-crash")).trim().split(' ').map(Number)
    const taskPid = Number(/^tb-crash\s+(\d+)/m.exec(await mustSsh(tb, 'h3', 'ctr task ls'))?.[1])
    const before = await testbedStatus(tb)
    const old = before.find((s) => s.name === 'h3')
    try {
      await crashHost(tb, 'h3')
      const r = await ssh(tb, 'h3', 'true', 2)
      expect(r.code).to.equal(255)
      expect(r.stderr).to.match(/timed out/i)
      for (const pid of [conmon, ctrPid, taskPid, old?.holder.pid, old?.sshd.pid, old?.containerd?.pid]) expect(pidAlive(pid), `pid ${pid} after the crash`).to.equal(false)
      const status = (await testbedStatus(tb)).find((s) => s.name === 'h3')
      expect(status).to.deep.include({link: 'down', ssh: 'timeout'})
    } finally {
      await restartHost(tb, 'h3')
    }
    expect(await scanHostKey(tb, 'h3')).to.equal(keyBefore)
    // podman sees a reboot: the container is back, not running; containerd kept the container, not the task
    expect((await mustSsh(tb, 'h3', "podman inspect --format '{{.State.Status}}' tb-crash")).trim()).to.equal('created')
    expect(await mustSsh(tb, 'h3', 'ctr c ls -q')).to.include('tb-crash')
    expect(await mustSsh(tb, 'h3', 'ctr task ls -q')).not.to.include('tb-crash')
    // and both runtimes work again. podman: a new container, as clusterctl starts after a reboot
    // (never the pre-crash one: restarting that after a power loss can hit the CNI allocation
    // left on the host's disk, "duplicate allocation is not allowed", podman issue #3759).
    await mustSsh(tb, 'h3', `podman rm -f --time 0 tb-crash && podman run -d --name tb-crash -p 18081:80 ${tb.image} httpd -f -p 80 -h /www && ctr task start -d tb-crash`)
    expect((await mustSsh(tb, 'h3', "podman inspect --format '{{.State.Status}}' tb-crash")).trim()).to.equal('running')
    // the same host port reaches the new container: no NAT rule of the old boot is left in front of it
    const url = `http://${h3.ip}:18081/`
    const got = await eventually(`GET ${url} after the restart`, 10_000, () => httpGet(url), (r) => r.code === 0)
    expect(got.body, JSON.stringify(got)).to.equal('clusterctl-test')
    expect(await mustSsh(tb, 'h3', 'ctr task ls')).to.match(/^tb-crash\s+\d+\s+RUNNING$/m)
    await mustSsh(tb, 'h3', 'podman rm -f --time 0 tb-crash; ctr task kill -s SIGKILL tb-crash; sleep 0.3; ctr task rm -f tb-crash; ctr c rm tb-crash')
    expect(h3.ip).to.equal('192.168.240.13')
  })

  it('kill-sshd refuses connections (unlike a crash); restart starts sshd again', async () => {
    const tb = getTestbed()
    try {
      await killSshd(tb, 'bare1')
      const r = await ssh(tb, 'bare1', 'true', 2)
      expect(r.code).to.equal(255)
      expect(r.stderr).to.match(/connection refused/i)
    } finally {
      await restartHost(tb, 'bare1')
    }
    expect((await mustSsh(tb, 'bare1', 'hostname')).trim()).to.equal('bare1')
  })

  it('rekey gives a host a new host key, which a pinned known_hosts refuses', async () => {
    const tb = getTestbed()
    const host = hostByName(tb, 'h2')
    const oldKey = await scanHostKey(tb, 'h2')
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cctl-kh-'))
    try {
      const knownHosts = path.join(dir, 'known_hosts')
      fs.writeFileSync(knownHosts, `${host.ip} ${oldKey}\n`)
      const pinned = ['-i', tb.keyPath, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', `root@${host.ip}`, 'true']
      expect((await execa('ssh', pinned, {reject: false})).exitCode, 'the old key is accepted before rekey').to.equal(0)
      await rekeyHost(tb, 'h2')
      const newKey = await scanHostKey(tb, 'h2')
      expect(newKey).not.to.equal(oldKey)
      expect(fs.readFileSync(`${host.hostKeyPath}.pub`, 'utf8')).to.include(newKey)
      const refused = await execa('ssh', pinned, {reject: false})
      expect(refused.exitCode).to.equal(255)
      expect(refused.stderr).to.match(/host key/i)
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }
    await mustSsh(tb, 'h2', 'true')
  })

  it('hosts are realistic by default: every SSH command pays the login shell start-up (about 1 s); an ideal host says so', async () => {
    const tb = getTestbed()
    const timed = async (): Promise<number> => {
      const t0 = Date.now()
      await mustSsh(tb, 'bare1', 'true')
      return Date.now() - t0
    }

    expect(hostByName(tb, 'bare1').shell).to.deep.equal({delayMs: 1_000, jitterMs: 0})
    expect(await timed()).to.be.at.least(1_000)
    // bash sources ~/.bashrc for commands run by sshd: the cost is the shell's, not the connection's
    expect(await mustSsh(tb, 'bare1', 'cat ~/.bashrc')).to.match(/sleep/)
    try {
      await setShellDelay(tb, 'bare1', {delayMs: 0})
      expect(await timed()).to.be.below(1_000)
    } finally {
      await setShellDelay(tb, 'bare1', {delayMs: 1_000})
    }
  })

  it('per-host knobs: extra latency through a relay, a non-root user with passwordless sudo, a host reached only through a bastion', async function () {
    this.timeout(180_000)
    const tb = getTestbed()
    const slow = await addHost(tb, {name: 'lat1', runtimes: [], latencyMs: 100, jitterMs: 30, sudoUser: true, shellDelayMs: 0})
    const hidden = await addHost(tb, {name: 'bast1', runtimes: [], bastion: 'bare1', shellDelayMs: 0})
    try {
      // 100 ms more per round trip: an SSH login takes several of them
      const t0 = Date.now()
      const who = await sshRun(tb, 'lat1', 'id -un; sudo -n id -u; cat /etc/sudoers 2>&1 | head -1', {user: SUDO_USER})
      const took = Date.now() - t0
      expect(who.code, who.stderr).to.equal(0)
      expect(who.stdout.split('\n').slice(0, 2)).to.deep.equal([SUDO_USER, '0'])
      expect(who.stdout).to.match(/Permission denied/) // an ordinary user: sudoers is root's
      expect(took).to.be.at.least(400)
      // the user and its sudoers live in the host's mount namespace only
      expect(fs.readFileSync('/etc/passwd', 'utf8')).to.not.match(new RegExp(`^${SUDO_USER}:`, 'm'))
      // sudo resets the environment: the runtime's variables do not survive it unless passed
      const env = await sshRun(tb, 'lat1', "X_PROBE=1 sudo -n sh -c 'echo ${X_PROBE-reset}'", {user: SUDO_USER})
      expect(env.stdout.trim()).to.equal('reset')

      // the bastion-only host: direct connections time out, through the bastion it answers
      expect(await probePort(hidden.ip, hidden.port, 1_000)).to.equal('timeout')
      expect((await mustSsh(tb, 'bast1', 'hostname')).trim()).to.equal('bast1')
    } finally {
      for (const h of [slow, hidden]) {
        await crashHost(tb, h.name).catch(() => {})
        const i = tb.hosts.findIndex((x) => x.name === h.name)
        if (i >= 0) tb.hosts.splice(i, 1)
      }
    }
  })

  it('addHost adds a running full host to the test bed mid-test', async () => {
    const tb = getTestbed()
    const taken = new Set(tb.hosts.map((h) => h.ip))
    const host = await addHost(tb, {name: 'h4'})
    // The lowest free address of the full-host range (other suites may have added hosts before).
    expect(host).to.deep.include({name: 'h4', netns: 'cctl-h4', vethOuter: 'cctl-h4-o'})
    expect(host.ip).to.match(/^192\.168\.240\.(1[1-9]|[2-9]\d)$/)
    expect(taken.has(host.ip)).to.equal(false)
    expect(hostByName(tb, 'h4')).to.equal(host)
    expect((await mustSsh(tb, 'h4', "hostname; podman images --format '{{.Repository}}:{{.Tag}}'; ctr images ls -q")).split('\n')).to.deep.equal(['h4', tb.image, tb.image])
  })
})

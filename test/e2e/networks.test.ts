/**
 * Job networks end to end (issue 14 items 4 and 6, docs/networks.md): the instances of a
 * job on a network on one node resolve each other by name (JOB-INSTANCE and JOB), the
 * network is made on demand with DNS on and removed when the job goes; bad input is
 * refused with exit 2 and nothing changed; containerd-only placements are refused with
 * the reason.
 */
import {expect} from 'chai'

import {sshRun, type Testbed} from '../testbed/testbed.js'
import {type CliResult, CliSandbox} from './cli.js'
import {getTestbed} from './fixture.js'

const said = (r: CliResult): string => `exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`
const HTTPD = 'mkdir -p /www && echo "instance $CLUSTERCTL_INSTANCE" > /www/index.html && exec httpd -f -p 8080 -h /www'

/**
 * From inside instance `from` of `job` on the host: GET http://NAME:8080/ with nc, which
 * resolves NAME through the network's DNS (retried a few seconds: httpd needs a moment to
 * bind). Not busybox's wget: in the test image (static busybox, no libc) it crashes (exit 139)
 * on any URL.
 */
async function fetchFrom(tb: Testbed, host: string, job: string, from: number, name: string): Promise<{code: number; stdout: string; stderr: string}> {
  const script = `c=$(podman ps -q --filter label=io.clusterctl.job=${job} --filter label=io.clusterctl.instance=${from})
[ -n "$c" ] || { echo "no container of ${job}.${from}" >&2; exit 9; }
for i in 1 2 3 4 5 6 7 8 9 10; do
  out=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | podman exec -i "$c" nc -w 3 ${name} 8080 2>&1 | tail -n 1)
  case $out in instance*) printf '%s\n' "$out"; exit 0 ;; esac
  sleep 1
done
printf '%s\n' "nc ${name} 8080: $out" >&2; podman exec "$c" nslookup ${name} >&2; exit 1`
  return sshRun(tb, host, script)
}

describe('e2e: networks (instances on one node resolve each other by name)', function () {
  this.timeout(300_000)
  let cli: CliSandbox
  let tb: Testbed

  before(async () => {
    tb = getTestbed()
    cli = new CliSandbox()
    const h1 = tb.hosts[0]!
    const h2 = tb.hosts[1]!
    for (const [name, ip, runtime] of [['n1', h1.ip, 'podman'], ['c2', h2.ip, 'containerd']] as const) {
      const add = await cli.run(['add-node', `root@${ip}`, '--name', name, '--key', tb.keyPath, '--runtime', runtime])
      expect(add.exitCode, said(add)).to.equal(0)
    }
  })

  after(async () => {
    const jobs = (await cli.run(['jobs', '--json'])).json<Array<{name: string}>>()
    for (const j of jobs) await cli.run(['rm', j.name])
    for (const h of tb.hosts.slice(0, 2)) {
      await sshRun(tb, h.name, 'podman rm -f -t 0 $(podman ps -aq --filter label=io.clusterctl.cluster) >/dev/null 2>&1; for n in $(podman network ls -q --filter label=io.clusterctl.cluster); do podman network rm -f "$n" >/dev/null 2>&1; done; true')
    }
    cli.cleanup()
  })

  it('two instances on a network reach each other as JOB-INSTANCE and JOB; the network has DNS on and goes with the job', async () => {
    const run = await cli.run(['run', 'pair', '--image', tb.image, '--instances', '2', '--network', 'shop', '--constraint', 'hostname:IS:n1', '--mem', '32Mi', '--json', '--', 'sh', '-c', HTTPD])
    expect(run.exitCode, said(run)).to.equal(0)
    const inspect = await sshRun(tb, 'h1', `podman network inspect --format '{{.DNSEnabled}} {{index .Labels "io.clusterctl.cluster"}}' shop`)
    expect(inspect.code, inspect.stderr).to.equal(0)
    expect(inspect.stdout.trim()).to.match(/^true \S+$/)

    for (const [from, to] of [[0, 1], [1, 0]] as const) {
      const r = await fetchFrom(tb, 'h1', 'pair', from, `pair-${to}`)
      expect(r.code, `pair.${from} -> pair-${to}: ${r.stderr}`).to.equal(0)
      expect(r.stdout.trim()).to.equal(`instance ${to}`)
    }

    const any = await fetchFrom(tb, 'h1', 'pair', 0, 'pair')
    expect(any.code, any.stderr).to.equal(0)
    expect(any.stdout.trim()).to.match(/^instance [01]$/)

    // The job goes: its pass stops the containers and removes the network nothing on n1 uses any more.
    const rm = await cli.run(['rm', 'pair'])
    expect(rm.exitCode, said(rm)).to.equal(0)
    expect(rm.stdout).to.match(/removed network\s+shop\s+on n1/)
    const gone = await sshRun(tb, 'h1', 'podman network exists shop')
    expect(gone.code, 'the network is gone').to.equal(1)
  })

  it('bad input is refused with exit 2 and nothing changed', async () => {
    const before = (await cli.run(['jobs', '--json'])).json<unknown[]>()
    const networks = async (): Promise<string> => (await sshRun(tb, 'h1', 'podman network ls --format "{{.Name}}" | sort')).stdout
    const networksBefore = await networks()
    const cases: Array<[string[], RegExp]> = [
      [['--network', 'Back_End'], /network: "Back_End" is not a network name/],
      [['--network', 'host'], /network: "host" is a network mode of podman/],
      [['--network', 'shop', '--runtime', 'containerd'], /network: a job on a network needs podman: containerd runs containers with host networking/],
    ]
    for (const [flags, message] of cases) {
      const r = await cli.run(['run', 'bad', '--image', tb.image, ...flags, '--', 'sleep', '60'])
      expect(r.exitCode, said(r)).to.equal(2)
      expect(r.stderr).to.match(message)
    }

    expect((await cli.run(['jobs', '--json'])).json<unknown[]>()).to.deep.equal(before)
    expect(await networks(), 'no network made').to.equal(networksBefore)
  })

  it('a job on a network placed where only containerd runs stays pending, saying why (exit 4)', async () => {
    const r = await cli.run(['run', 'edge', '--image', tb.image, '--network', 'shop', '--constraint', 'hostname:IS:c2', '--mem', '32Mi', '--', 'sleep', '60'])
    expect(r.exitCode, said(r)).to.equal(4)
    expect(said(r)).to.include('runtime:IS:podman (a job on a network needs podman: containerd runs containers with host networking and joins no network)')
    expect((await cli.run(['rm', 'edge'])).exitCode).to.equal(0)
  })
})

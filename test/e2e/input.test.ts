/**
 * First contact without nodes: how the built CLI reads its input (pipes, big and
 * endless files), validates specs at submit, and treats the state file. Needs no
 * test bed; runs bin/run.js as a user's shell does.
 */
import {expect} from 'chai'
import fs from 'node:fs'
import path from 'node:path'

import {CliSandbox} from './cli.js'

const SPEC = 'name: piped\nimage: localhost/app:1\nmem: 16Mi\ncommand: ["sleep", "3600"]\n'

describe('e2e: first contact without nodes (input, validation, state file)', function () {
  this.timeout(120_000)
  let cli: CliSandbox

  beforeEach(async () => {
    cli = new CliSandbox('clusterctl-input-')
    const init = await cli.run(['init'])
    expect(init.exitCode, init.stderr).to.equal(0)
  })

  afterEach(() => cli.cleanup())

  describe('apply -f reads its input as a stream', () => {
    it('waits for a pipe whose writer is slow to start', async () => {
      fs.writeFileSync(path.join(cli.home, 'spec.yaml'), SPEC)
      const r = await cli.shell('(sleep 2; cat spec.yaml) | $CLUSTERCTL apply -f - --no-start --json')
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.json<{jobs: Array<{name: string; change: string}>}>().jobs).to.deep.equal([{name: 'piped', change: 'created', what: [], servicePort: null}])
    })

    it('reads more than 64 KiB from a pipe whose writer is a Node program (a non-blocking pipe)', async () => {
      const padding = Array.from({length: 2000}, (_, i) => `# padding line ${i} ${'x'.repeat(40)}`).join('\n')
      fs.writeFileSync(path.join(cli.home, 'big.yaml'), `${padding}\n${SPEC}`)
      expect(fs.statSync(path.join(cli.home, 'big.yaml')).size).to.be.greaterThan(64 * 1024)
      const r = await cli.shell(`'${process.execPath}' -e 'process.stdout.write(require("fs").readFileSync("big.yaml"))' | $CLUSTERCTL apply -f - --no-start --json`)
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.json<{jobs: Array<{name: string}>}>().jobs.map((j) => j.name)).to.deep.equal(['piped'])
    })

    it('refuses endless input (/dev/zero, as a file or on stdin) past the size limit with exit 2', async () => {
      for (const script of ['$CLUSTERCTL apply -f /dev/zero', '$CLUSTERCTL apply -f - < /dev/zero']) {
        const r = await cli.shell(script, {timeoutMs: 60_000})
        expect(r.exitCode, `${script}: ${r.stderr}`).to.equal(2)
        expect(r.stderr, script).to.match(/^Error: (\/dev\/zero|standard input) is larger than 32 MiB; split it into several files\.$/m)
      }
    })
  })

  describe('validation at submit', () => {
    const IMAGE = 'localhost/app:1'

    it('refuses bad images, absurd sizes and counts, and stray words with exit 2 and the field named; nothing is recorded', async () => {
      const created = await cli.run(['run', 'existing', '--image', IMAGE, '--no-start'])
      expect(created.exitCode, created.stderr).to.equal(0)
      const cases: Array<[string[], RegExp]> = [
        [['run', 'a', '--image', 'foo bar'], /image: "foo bar" is not an image reference/],
        [['run', 'a', '--image', 'x;$(touch /tmp/pwned)'], /image: "x;\$\(touch \/tmp\/pwned\)" is not an image reference/],
        [['run', 'a', '--image', IMAGE, '--mem', '99999999Ti'], /mem: must be at most 64Ti, got "99999999Ti"/],
        [['run', 'a', '--image', IMAGE, '--cpus', '99999999'], /cpus: must be at most 1024/],
        [['run', 'a', '--image', IMAGE, '--instances', '1000000'], /instances: must be at most 10000/],
        [['run', 'a', '--image', IMAGE, '--instances', '99999999999999999999'], /instances: must be at most 10000/],
        [['run', 'a', '--image', IMAGE, '--cpus', '0.0000001'], /cpus: must be at least 0.001 \(1m\), got "0.0000001"/],
        [['run', 't1', 't2', '--image', IMAGE], /Only one job name is taken \(got also "t2"\); the container command goes after `--`/],
        // An existing name with a bad flag: the flag is the error, not "already exists".
        [['run', 'existing', '--image', IMAGE, '--instances', '1000000'], /instances: must be at most 10000/],
        [['scale', 'existing', '99999999999999999999'], /The instance count must be at most 10000, got 99999999999999999999/],
      ]
      for (const [args, expected] of cases) {
        const r = await cli.run(args[0] === 'run' ? [...args, '--no-start'] : args)
        expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).to.equal(2)
        expect(r.stderr.split('\n')[0], args.join(' ')).to.match(expected)
        expect(r.stderr, args.join(' ')).not.to.match(/bug in clusterctl|already exists/)
      }

      const jobs = await cli.run(['jobs', '--json'])
      expect(jobs.json<Array<{name: string; instances: number}>>().map((j) => [j.name, j.instances])).to.deep.equal([['existing', 1]])
    })

    it('refuses a NUL byte in an env value and a non-string name in a spec file, naming each field', async () => {
      fs.writeFileSync(path.join(cli.home, 'bad.json'), JSON.stringify({name: 123, image: IMAGE, cpus: {a: 1}, env: {A: 'x\0y'}}))
      const r = await cli.shell('$CLUSTERCTL apply -f bad.json --no-start')
      expect(r.exitCode, r.stderr).to.equal(2)
      expect(r.stderr).to.include('name: must be a string like web-1, got 123')
      expect(r.stderr).to.include('env.A: contains a NUL byte')
      expect(r.stderr).to.include('cpus: must be a CPU count like 2, 0.5 or 500m, got an object')
      expect(r.stderr).not.to.include('[object Object]')
    })

    it('reads everything after -- as the command, byte for byte', async () => {
      const r = await cli.run(['run', 'cmd', '--image', IMAGE, '--no-start', '--json', '--', 'sh', '-c', 'echo "$1"', '--', '--image', 't2'])
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(r.json<{job: {spec: {command: string[]}}}>().job.spec.command).to.deep.equal(['sh', '-c', 'echo "$1"', '--', '--image', 't2'])
    })
  })

  describe('the state file is created only by an explicit step', () => {
    it('a --db or CLUSTERCTL_DB path that does not exist is refused (exit 3, the path named), and nothing is created', async () => {
      const typo = path.join(cli.home, 'stat', 'state.db')
      const viaFlag = await cli.run(['run', 'web', '--image', 'localhost/app:1', '--no-start', '--db', typo])
      expect(viaFlag.exitCode, viaFlag.stderr).to.equal(3)
      expect(viaFlag.stderr).to.include(`Error: There is no state file at ${typo} (from --db).`)
      expect(viaFlag.stderr).to.include('clusterctl init')
      const viaEnv = await cli.run(['apply', '-f', '-', '--no-start'], {env: {CLUSTERCTL_DB: typo}, input: 'name: web\nimage: localhost/app:1\n'})
      expect(viaEnv.exitCode, viaEnv.stderr).to.equal(3)
      expect(viaEnv.stderr).to.include(`(from CLUSTERCTL_DB)`)
      expect(fs.existsSync(path.dirname(typo))).to.equal(false)
    })

    it('a listing of a missing file is empty, names the file, and creates nothing; an empty listing names the file in use', async () => {
      const typo = path.join(cli.home, 'typo.db')
      const human = await cli.run(['nodes'], {env: {CLUSTERCTL_DB: typo}})
      expect(human.exitCode, human.stderr).to.equal(0)
      expect(human.stdout).to.include(`No state file at ${typo} (from CLUSTERCTL_DB); \`clusterctl init\` creates it.`)
      const json = await cli.run(['jobs', '--json', '--db', typo])
      expect(json.json()).to.deep.equal([])
      expect(json.stderr).to.include(`No state file at ${typo} (from --db)`)
      expect(fs.existsSync(typo)).to.equal(false)

      const inUse = await cli.run(['jobs'])
      expect(inUse.stdout).to.include(`State file: ${cli.db}`)
    })

    it('init creates the file 0600 and changes nothing the second time; an empty 0644 file becomes 0600', async () => {
      const file = path.join(cli.home, 'new', 'state.db')
      const first = await cli.run(['init', '--db', file, '--json'])
      expect(first.exitCode, first.stderr).to.equal(0)
      expect(first.json()).to.deep.include({file, created: true})
      expect(fs.statSync(file).mode & 0o777).to.equal(0o600)
      const again = await cli.run(['init', '--db', file])
      expect(again.stdout).to.match(/exists \(schema \d+\); nothing changed/)

      const empty = path.join(cli.home, 'empty.db')
      fs.writeFileSync(empty, '')
      fs.chmodSync(empty, 0o644)
      const r = await cli.run(['run', 'web', '--image', 'localhost/app:1', '--no-start', '--db', empty])
      expect(r.exitCode, r.stderr).to.equal(0)
      expect(fs.statSync(empty).mode & 0o777).to.equal(0o600)
    })
  })

  describe('help', () => {
    it('clusterctl help COMMAND shows the command\'s help; node --help lists rm once', async () => {
      const scale = await cli.run(['help', 'scale'])
      expect(scale.exitCode, scale.stderr).to.equal(0)
      expect(scale.stdout).to.match(/USAGE\n\s+\$ clusterctl scale NAME\.\.\. COUNT/)
      const drain = await cli.run(['help', 'node', 'drain'])
      expect(drain.stdout).to.include('$ clusterctl node drain')
      const node = await cli.run(['node', '--help'])
      expect(node.stdout.match(/^\s+node (rm|remove)\b/gm)).to.deep.equal(['  node rm'])
      expect((await cli.run(['node', 'remove', '--help'])).exitCode).to.equal(0)
    })
  })
})

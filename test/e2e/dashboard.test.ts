/**
 * The dashboard in a real terminal: tmux runs `clusterctl dashboard` (the built
 * CLI) against the testbed, send-keys drives it like a person would, capture-pane
 * reads the screen. A daemon runs beside it in another process, so the screen
 * follows the cluster within a pass, and quitting the dashboard must leave that
 * daemon running.
 */
import {expect} from 'chai'
import {execa, execaSync, type ResultPromise} from 'execa'
import fs from 'node:fs'
import path from 'node:path'

import {CliSandbox, PROJECT_ROOT} from './cli.js'
import {getTestbed} from './fixture.js'

const BIN = path.join(PROJECT_ROOT, 'bin', 'run.js')
const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait']
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`
/** Where the screens are saved (set it to keep them, e.g. for the README). */
const captureDir = (fallback: string): string => process.env.DASHBOARD_CAPTURE_DIR ?? fallback

/** One tmux server of our own (its own socket), so nothing of the user's or another run's is touched. */
class Terminal {
  readonly socket = `cctl-dash-${process.pid}`
  readonly session = 'dash'

  tmux(...args: string[]): string {
    return execaSync('tmux', ['-L', this.socket, ...args], {reject: false}).stdout
  }

  start(command: string, width: number, height: number): void {
    const r = execaSync('tmux', ['-L', this.socket, '-f', '/dev/null', 'new-session', '-d', '-s', this.session, '-x', String(width), '-y', String(height), command], {reject: false})
    expect(r.exitCode, r.stderr).to.equal(0)
  }

  /** Keys as tmux names them (Tab, Enter, Escape, Down) or literal text with `literal`. */
  send(keys: string, literal = false): void {
    this.tmux('send-keys', '-t', this.session, ...(literal ? ['-l', keys] : [keys]))
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.session)
  }

  alive(): boolean {
    return execaSync('tmux', ['-L', this.socket, 'has-session', '-t', this.session], {reject: false}).exitCode === 0
  }

  /** Polls the screen until `check` holds; fails with the last screen. */
  async waitFor(what: string, check: (screen: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      last = this.screen()
      if (check(last)) return last
      await sleep(150)
    }

    throw new Error(`the screen did not show ${what} within ${timeoutMs} ms; it shows:\n${last}`)
  }

  kill(): void {
    execaSync('tmux', ['-L', this.socket, 'kill-server'], {reject: false})
  }
}

/** The row of a table that names this node (a line of the screen). */
function rowOf(screen: string, name: string): string | undefined {
  return screen.split('\n').find((line) => new RegExp(`^[> ] ${name.replace(/\./g, '\\.')}\\s`).test(line))
}

describe('e2e: dashboard in a real terminal (tmux)', function () {
  this.timeout(240_000)
  let cli: CliSandbox
  let term: Terminal
  let daemon: ResultPromise | undefined
  let names: string[]

  before(async () => {
    const tb = getTestbed()
    cli = new CliSandbox()
    term = new Terminal()
    const hosts = tb.hosts.filter((h) => h.runtimes.length > 0).slice(0, 3)
    names = hosts.map((h) => h.ip)
    const add = await cli.run(['add-node', ...hosts.map((h) => `root@${h.ip}`), '--key', tb.keyPath])
    expect(add.exitCode, add.stderr).to.equal(0)
    const run = await cli.run(['run', 'web', '--image', 'localhost/clusterctl-test:latest', '--instances', '2', '--cpus', '0.5', '--mem', '64Mi', '--', ...SLEEPER])
    expect(run.exitCode, run.stderr + run.stdout).to.equal(0)
  })

  after(async () => {
    term?.kill()
    if (daemon) {
      daemon.kill('SIGTERM')
      const t = setTimeout(() => daemon?.kill('SIGKILL'), 10_000)
      await daemon
      clearTimeout(t)
    }

    if (cli) {
      for (let i = 0; i < 40; i++) {
        const jobs = (await cli.run(['jobs', '--json'])).json<Array<{name: string}>>()
        const results = await Promise.all(jobs.map((j) => cli.run(['rm', j.name])))
        if (results.every((r) => r.exitCode === 0)) break
        await sleep(500)
      }

      cli.cleanup()
    }
  })

  it('refuses to run without a terminal, in one clear sentence (exit 2)', async () => {
    const r = await cli.run(['dashboard'])
    expect(r.exitCode).to.equal(2)
    expect(r.stderr.split('\n')[0]).to.equal('Error: clusterctl dashboard needs a terminal: its input or output is not a TTY.')
    expect(r.stdout).to.equal('')
  })

  it('shows the cluster, navigates, filters and cordons a node (in the state file too); q leaves the daemon running', async () => {
    // A daemon in another process: the dashboard only reads the state file beside it.
    daemon = execa(process.execPath, [BIN, 'daemon', '--interval', '500ms'], {env: {HOME: cli.home, CLUSTERCTL_DB: cli.db, NO_COLOR: '1', SSH_AUTH_SOCK: ''}, reject: false})
    const exitFile = path.join(cli.home, 'dashboard.exit')
    // CI=true (GitHub Actions) makes Ink print only the last frame: a real terminal has no CI variable.
    const command = `env -u CI -u CONTINUOUS_INTEGRATION HOME=${quote(cli.home)} CLUSTERCTL_DB=${quote(cli.db)} NO_COLOR=1 SSH_AUTH_SOCK= ${quote(process.execPath)} ${quote(BIN)} dashboard --refresh 500ms; echo "exit=$?" > ${quote(exitFile)}`
    term.start(command, 80, 24)

    // The summary: three ready nodes, what the two instances hold.
    let screen = await term.waitFor('the summary with 3 ready nodes', (s) => /\[1 Summary\]/.test(s) && /Nodes\s+3\s+ready 3/.test(s))
    expect(screen).to.match(/CPU\s+\[\|* *\]\s+\d+%\s+1 \/ \d+ cores allocated/)
    expect(screen).to.match(/Tasks\s+running 2/)
    fs.writeFileSync(path.join(captureDir(cli.home), 'summary.txt'), screen)

    // Tab to the nodes: every node, ready, one task each or two on one.
    term.send('Tab')
    screen = await term.waitFor('the nodes table', (s) => /\[2 Nodes\]/.test(s) && names.every((n) => rowOf(s, n)))
    expect(screen).to.match(/^ {2}NAME\s+STATE\s+CPU\s+MEM\s+TASKS\s+SEEN\s+LAT/m)
    for (const n of names) expect(rowOf(screen, n)).to.match(/\sready\s/)
    expect(rowOf(screen, names[0]!)).to.match(/^> /)
    fs.writeFileSync(path.join(captureDir(cli.home), 'nodes.txt'), screen)

    // Move down with j and with the arrow key: the marker follows.
    term.send('j')
    await term.waitFor('the second node selected', (s) => /^> /.test(rowOf(s, names[1]!) ?? ''))
    term.send('Down')
    await term.waitFor('the third node selected', (s) => /^> /.test(rowOf(s, names[2]!) ?? ''))

    // Filter down to the second node, then cordon it.
    const target = names[1]!
    term.send('/')
    term.send(target, true)
    term.send('Enter')
    screen = await term.waitFor(`only ${target} listed`, (s) => rowOf(s, target) !== undefined && rowOf(s, names[0]!) === undefined && rowOf(s, names[2]!) === undefined && s.includes(`filter: ${target}`))
    expect(rowOf(screen, target)).to.match(/^> /)
    term.send('c')
    screen = await term.waitFor(`${target} cordoned on the screen`, (s) => /\scordoned\s/.test(rowOf(s, target) ?? '') && s.includes(`${target} cordoned: takes no new work`))

    // ... and in the state file, for every other clusterctl.
    const nodes = (await cli.run(['nodes', '--json'])).json<Array<{name: string; state: string}>>()
    expect(nodes.find((n) => n.name === target)!.state).to.equal('cordoned')
    expect(nodes.filter((n) => n.name !== target).map((n) => n.state)).to.deep.equal(['ready', 'ready'])

    // esc clears the filter: all three again, the cordoned one marked so.
    term.send('Escape')
    screen = await term.waitFor('all nodes again', (s) => names.every((n) => rowOf(s, n)) && !s.includes('filter:'))
    expect(rowOf(screen, target)).to.match(/\scordoned\s/)

    // A change made elsewhere shows within a pass: scale from another process, watch the tasks.
    term.send('4')
    await term.waitFor('the tasks table with 2 running', (s) => /\[4 Tasks\]/.test(s) && (s.match(/^[> ] web\s+\d+\s+\S+\s+running/gm) ?? []).length === 2)
    const scale = await cli.run(['scale', 'web', '3'])
    expect(scale.exitCode, scale.stderr + scale.stdout).to.equal(0)
    screen = await term.waitFor('3 running instances', (s) => (s.match(/^[> ] web\s+\d+\s+\S+\s+running/gm) ?? []).length === 3, 10_000)
    // The new instance went elsewhere: the cordoned node takes no new work.
    expect(screen.split('\n').find((l) => /^[> ] web\s+2\s/.test(l))).not.to.include(target)
    fs.writeFileSync(path.join(captureDir(cli.home), 'tasks.txt'), screen)

    // Enter: the job's detail.
    term.send('Enter')
    screen = await term.waitFor('the detail of job web', (s) => /Job web\s+service, active\s+3 wanted: 3 running/.test(s))
    expect(screen).to.include('Recent events')
    fs.writeFileSync(path.join(captureDir(cli.home), 'job.txt'), screen)

    // s scales the job from an empty prompt: 5, backspace, 4 in one send-keys (one chunk,
    // as over SSH) is 4, not 354; more than double asks first, and n cancels.
    term.send('s')
    await term.waitFor('the scale prompt, empty', (s) => s.includes('Scale web (now 3) to: _'))
    term.tmux('send-keys', '-t', term.session, '5', 'BSpace', '4', 'Enter')
    await term.waitFor('web scaled to 4', (s) => /web scaled to 4/.test(s) && /4 wanted: 4 running/.test(s), 30_000)
    term.send('s')
    term.send('9', true)
    term.send('Enter')
    await term.waitFor('the confirmation', (s) => s.includes('Scale web from 4 to 9, more than double? y/N'))
    term.send('n')
    await term.waitFor('cancelled', (s) => s.includes('cancelled'))
    expect((await cli.run(['jobs', '--json'])).json<Array<{name: string; instances: number}>>().find((j) => j.name === 'web')!.instances).to.equal(4)

    // q quits the dashboard (exit 0) and never the daemon beside it.
    term.send('q')
    for (let i = 0; i < 50 && !fs.existsSync(exitFile); i++) await sleep(100)
    expect(fs.readFileSync(exitFile, 'utf8').trim()).to.equal('exit=0')
    expect(daemon.exitCode).to.equal(null)
    const events = (await cli.run(['events', '--limit', '5'])).stdout
    await sleep(1500)
    expect(daemon.exitCode, events).to.equal(null)
  })

  it('clusterctl daemon on a terminal: the dashboard shows its log; q stops it cleanly and releases the lease', async () => {
    // The daemon of the test before is still running: stop it, so this one acts.
    daemon!.kill('SIGTERM')
    await daemon
    daemon = undefined
    term.kill()
    const exitFile = path.join(cli.home, 'daemon.exit')
    const outFile = path.join(cli.home, 'daemon.out')
    const command = `env -u CI -u CONTINUOUS_INTEGRATION HOME=${quote(cli.home)} CLUSTERCTL_DB=${quote(cli.db)} NO_COLOR=1 SSH_AUTH_SOCK= ${quote(process.execPath)} ${quote(BIN)} daemon --interval 500ms; echo "exit=$?" > ${quote(exitFile)}; sleep 30`
    term.start(`${command}`, 100, 30)
    await term.waitFor('the daemon dashboard', (s) => s.includes('clusterctl daemon') && /\[1 Summary\]/.test(s))
    term.send('5')
    let screen = await term.waitFor('the daemon acting, in the Events view', (s) => /\[5 Events\]/.test(s) && /daemon\s+-\s+acting as the controller/.test(s))
    fs.writeFileSync(path.join(captureDir(cli.home), 'daemon-events.txt'), screen)
    expect(screen).to.match(/q:stop daemon/)
    const lease = await cli.run(['scale', 'web', '2'])
    expect(lease.exitCode, lease.stderr + lease.stdout).to.equal(0)
    expect(lease.stdout).to.match(/daemon/i)
    term.send('q')
    for (let i = 0; i < 100 && !fs.existsSync(exitFile); i++) await sleep(100)
    expect(fs.readFileSync(exitFile, 'utf8').trim()).to.equal('exit=0')
    screen = term.screen()
    fs.writeFileSync(outFile, screen)
    // Back on the normal screen: the last line says the lease was released.
    expect(screen).to.match(/daemon stopped; lease released/)
    // The lease is free: schedule, which refuses to race a daemon, runs its pass.
    const pass = await cli.run(['schedule'])
    expect(pass.exitCode, pass.stderr + pass.stdout).to.equal(0)
  })

  it('a scheduled job\'s detail shows its schedule, next times with their UTC offset, and its runs as they happen', async () => {
    if (daemon) {
      daemon.kill('SIGTERM')
      await daemon
    }

    term.kill()
    const made = await cli.run(['run', 'tick', '--image', 'localhost/clusterctl-test:latest', '--schedule', '@daily', '--mem', '16Mi', '--no-start', '--', 'sh', '-c', 'echo tick'])
    expect(made.exitCode, made.stderr + made.stdout).to.equal(0)
    daemon = execa(process.execPath, [BIN, 'daemon', '--interval', '500ms'], {env: {HOME: cli.home, CLUSTERCTL_DB: cli.db, NO_COLOR: '1', SSH_AUTH_SOCK: ''}, reject: false})
    const command = `env -u CI -u CONTINUOUS_INTEGRATION HOME=${quote(cli.home)} CLUSTERCTL_DB=${quote(cli.db)} NO_COLOR=1 SSH_AUTH_SOCK= ${quote(process.execPath)} ${quote(BIN)} dashboard --refresh 500ms`
    term.start(command, 120, 30)
    await term.waitFor('the jobs view with tick', (s) => /\[1 Summary\]/.test(s))
    term.send('3')
    term.send('/')
    term.send('tick', true)
    term.send('Enter')
    await term.waitFor('tick selected', (s) => /^> tick\s/m.test(s))
    term.send('Enter')
    let screen = await term.waitFor('the detail of tick, no runs yet', (s) => /Job tick\s+batch/.test(s) && s.includes('no runs yet'))
    expect(screen).to.include('schedule @daily (UTC)')
    expect(screen).to.match(/next runs \d{4}-\d\d-\d\dT00:00:00\+00:00, /)
    // A run started from another process shows up, and ends succeeded with exit code 0.
    const trigger = await cli.run(['trigger', 'tick'])
    expect(trigger.exitCode, trigger.stderr + trigger.stdout).to.equal(0)
    screen = await term.waitFor('the run of tick, succeeded', (s) => /^ {2}tick@\d{8}T\d{6}(\.\d+)?Z\s+manual\s+succeeded\s+0\s+\d{4}-\S+Z\s+\d{4}-\S+Z\s+\S+/m.test(s), 60_000)
    expect(screen).to.match(/Runs \(newest 1; clusterctl runs tick for all\)/)
    fs.writeFileSync(path.join(captureDir(cli.home), 'scheduled-job.txt'), screen)
    // The same run as `clusterctl runs` records it.
    const runs = (await cli.run(['runs', 'tick', '--json'])).json<Array<{id: string; state: string; exitCode: number | null}>>()
    expect(runs.map((r) => [r.state, r.exitCode])).to.deep.equal([['succeeded', 0]])
    expect(screen).to.include(runs[0]!.id)
    term.send('q')
  })
})

import {expect} from 'chai'
import fc from 'fast-check'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'

import {UnreachableError} from '../../../src/core/errors.js'
import {toShellCommand} from '../../../src/ssh/quote.js'
import {MarkerScanner, SESSION_SCRIPT, ShellSession, type SessionChannel} from '../../../src/ssh/session.js'
import {argList, printfArgv, splitNulOutput} from './argv-arbitrary.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The session script run by a local shell, in a process group of its own as sshd's setsid gives it. */
function localChannel(shell: string, script = SESSION_SCRIPT): {channel: SessionChannel; child: ChildProcess} {
  const child = spawn(shell, ['-c', script, 'clusterctl-session'], {detached: true, stdio: ['pipe', 'pipe', 'pipe']})
  const channel: SessionChannel = {
    write: (data) => child.stdin!.write(data),
    on: ((event: 'data' | 'close', listener: (chunk: Buffer) => void) => {
      if (event === 'data') child.stdout!.on('data', listener)
      else child.on('close', listener)
    }) as SessionChannel['on'],
    stderr: {on: (_event, listener) => child.stderr!.on('data', listener)},
    signal: (name) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(`SIG${name}` as NodeJS.Signals)
    },
    close: () => child.stdin!.end(),
  }
  return {channel, child}
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

const run = (session: ShellSession, argv: string[], options: Parameters<ShellSession['run']>[2] = {}, signal = new AbortController().signal) =>
  session.run(toShellCommand(argv), argv, options, signal)

describe('ssh/session: MarkerScanner', () => {
  it('hands out the bytes before the marker and reads its line, however the stream is cut', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 200}), fc.array(fc.nat(240), {maxLength: 6}), (body, cuts) => {
        const marker = Buffer.from('@@cctl-0123456789abcdef')
        const stream = Buffer.concat([Buffer.from(body), marker, Buffer.from(' 17\n')])
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b)
        const scanner = new MarkerScanner(marker)
        const out: Buffer[] = []
        let from = 0
        for (const point of [...points, stream.length]) {
          out.push(scanner.push(stream.subarray(from, point)))
          from = point
        }
        // Bodies that happen to contain the marker are not what this checks.
        if (Buffer.from(body).includes(marker)) return
        expect(Buffer.concat(out).equals(Buffer.from(body))).to.equal(true)
        expect(scanner.trailer).to.equal(' 17')
      }),
    )
  })
})

for (const shell of ['dash', 'bash']) {
  const available = spawnSync(shell, ['-c', 'true']).status === 0
  ;(available ? describe : describe.skip)(`ssh/session: ShellSession over ${shell}`, function () {
    this.timeout(20_000)
    let child: ChildProcess
    let session: ShellSession

    beforeEach(async () => {
      const local = localChannel(shell)
      child = local.child
      session = new ShellSession(local.channel, 'local-test')
      await session.ready
    })
    afterEach(() => {
      session.discard()
      if (child.pid && groupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL')
    })

    it('runs commands one after another: stdout, stderr and exit status apart', async () => {
      const first = await run(session, ['sh', '-c', 'echo out; echo err >&2; printf "no newline"; exit 3'])
      expect(first).to.deep.equal({stdout: 'out\nno newline', stderr: 'err\n', code: 3, signal: null})
      const second = await run(session, ['echo', 'second'])
      expect(second).to.deep.equal({stdout: 'second\n', stderr: '', code: 0, signal: null})
      expect((await run(session, ['false'])).code).to.equal(1)
      expect((await run(session, ['no-such-program-cctl'])).code).to.equal(127)
      expect(session.commands).to.equal(4)
    })

    it('carries every argv byte for byte (property)', async () => {
      await fc.assert(
        fc.asyncProperty(argList, async (args) => {
          const chunks: Buffer[] = []
          const result = await run(session, printfArgv(args), {onStdout: (chunk) => chunks.push(chunk)})
          expect(result.code).to.equal(0)
          const parts = splitNulOutput(Buffer.concat(chunks))
          expect(parts.map((p) => p.toString('hex'))).to.deep.equal(['BEGIN', ...args].map((a) => Buffer.from(a, 'utf8').toString('hex')))
        }),
        {numRuns: 60},
      )
    })

    it('passes binary output through unchanged, marker-like text included', async () => {
      const bytes = Buffer.from(Array.from({length: 256}, (_, i) => i))
      const octal = [...bytes].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')
      const chunks: Buffer[] = []
      const result = await run(session, ['sh', '-c', 'printf "$1"; printf "@@cctl-%s 0\\n" 00000000000000000000000000000000; printf "$1" >&2', 'x', octal], {onStdout: (c) => chunks.push(c)})
      expect(result.code).to.equal(0)
      expect(Buffer.concat(chunks).equals(Buffer.concat([bytes, Buffer.from('@@cctl-00000000000000000000000000000000 0\n')]))).to.equal(true)
    })

    it('waits for a straggler that keeps the output open, so it never lands in the next command', async () => {
      const first = await run(session, ['sh', '-c', '(sleep 0.3; echo late) & echo now'])
      expect(first.stdout).to.equal('now\nlate\n')
      const second = await run(session, ['echo', 'clean'])
      expect(second.stdout).to.equal('clean\n')
    })

    it('an abort ends the command and its whole session (no desynchronised stream)', async () => {
      const abort = new AbortController()
      const pending = run(session, ['sh', '-c', 'sleep 30 & sleep 30; echo never'], {}, abort.signal)
      await sleep(200)
      abort.abort(new Error('stop it'))
      const error = await pending.then(
        () => undefined,
        (e: unknown) => e,
      )
      expect((error as Error).message).to.equal('stop it')
      expect(session.state).to.equal('closed')
      for (let i = 0; i < 50 && groupAlive(child.pid!); i++) await sleep(50)
      expect(groupAlive(child.pid!), 'the session and both sleeps are gone').to.equal(false)
    })

    it('an abort ends the remote command even where sshd passes on no signals (the closed input is the cancel)', async () => {
      const local = localChannel(shell)
      const deaf = new ShellSession({...local.channel, signal: () => {}}, 'local-test')
      await deaf.ready
      const abort = new AbortController()
      const pending = run(deaf, ['sh', '-c', 'sleep 30 & sleep 30'], {}, abort.signal)
      await sleep(200)
      abort.abort(new Error('stop it'))
      await pending.catch(() => {})
      for (let i = 0; i < 50 && groupAlive(local.child.pid!); i++) await sleep(50)
      expect(groupAlive(local.child.pid!), 'the session and both sleeps are gone').to.equal(false)
    })

    it('a session that dies under a command rejects it with code closed', async () => {
      const pending = run(session, ['sh', '-c', 'kill -KILL 0'])
      const error = await pending.then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).to.be.instanceOf(UnreachableError)
      expect((error as UnreachableError).code).to.equal('closed')
    })
  })
}

describe('ssh/session: a shell that cannot hold a session', () => {
  it('rejects ready with what the shell said', async () => {
    const {channel} = localChannel('sh', 'echo "conda: command not found" >&2; exit 1')
    const session = new ShellSession(channel, 'local-test')
    const error = await session.ready.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect((error as Error).message).to.match(/ended before it was ready: conda: command not found/)
  })
})

/**
 * An in-process SSH server (ssh2.Server) for the pool's mechanics: it counts TCP
 * connections, authentications and concurrent sessions, and understands a tiny command
 * language instead of a shell:
 *
 *   sleep MS      exit 0 after MS milliseconds        exit N     exit with status N
 *   out TEXT      TEXT on stdout                      err TEXT   TEXT on stderr
 *   cat           echo stdin to stdout                count      print the number of stdin bytes
 *   kill          end by signal TERM                  hang       never answer
 *   drop          cut the whole TCP connection        anything else: "ran: COMMAND"
 *
 * It also accepts direct-tcpip (ProxyJump) requests when `allowForwarding` is set.
 * With `realShell`, every command runs in a real local `/bin/sh -c COMMAND` instead (in a
 * process group of its own, as sshd's setsid gives it; `signal` requests reach that group).
 */
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import net from 'node:net'
import ssh2 from 'ssh2'
import type {Connection, ParsedKey, ServerChannel} from 'ssh2'

const {Server, utils} = ssh2

export interface FakeSshdOptions {
  hostKeyPath: string
  /** Public key files (`.pub`) allowed to log in, for any user. */
  authorizedKeys: string[]
  allowForwarding?: boolean
  /** Refuse public keys and offer only passwords. */
  passwordOnly?: boolean
  /** Run commands with a real local /bin/sh instead of the tiny language. */
  realShell?: boolean
}

export interface FakeSshd {
  port: number
  /** TCP connections accepted. */
  tcpConnections: number
  /** Auth requests seen (any method). */
  authAttempts: number
  authenticated: number
  users: string[]
  commands: string[]
  activeSessions: number
  maxActiveSessions: number
  /** Sessions whose channel the client closed before the command finished. */
  sessionsClosedEarly: number
  forwards: Array<{host: string; port: number}>
  /** Cut every TCP connection, as a network failure would. */
  dropAll(): void
  /** Stop reading from every connection (a hung host: TCP stays up, SSH never answers). */
  freezeAll(): void
  close(): Promise<void>
}

export async function startFakeSshd(options: FakeSshdOptions): Promise<FakeSshd> {
  const allowed: ParsedKey[] = options.authorizedKeys.map((file) => {
    const parsed = utils.parseKey(readFileSync(file))
    if (parsed instanceof Error) throw parsed
    return Array.isArray(parsed) ? parsed[0] : parsed
  })
  const sockets = new Set<net.Socket>()
  const state: FakeSshd = {
    port: 0,
    tcpConnections: 0,
    authAttempts: 0,
    authenticated: 0,
    users: [],
    commands: [],
    activeSessions: 0,
    maxActiveSessions: 0,
    sessionsClosedEarly: 0,
    forwards: [],
    dropAll: () => {
      for (const socket of sockets) socket.destroy()
    },
    freezeAll: () => {
      for (const socket of sockets) socket.pause()
    },
    close: async () => {
      state.dropAll()
      await new Promise<void>((resolve) => tcp.close(() => resolve()))
    },
  }

  const ssh = new Server({hostKeys: [readFileSync(options.hostKeyPath)]}, (client: Connection) => {
    client.on('authentication', (ctx) => {
      state.authAttempts++
      if (options.passwordOnly) return ctx.reject(['password'])
      if (ctx.method !== 'publickey') return ctx.reject(['publickey'])
      const match = allowed.find((key) => key.type === ctx.key.algo && key.getPublicSSH().equals(ctx.key.data))
      if (!match) return ctx.reject(['publickey'])
      if (ctx.signature && ctx.blob && match.verify(ctx.blob, ctx.signature, ctx.hashAlgo as never) !== true) return ctx.reject(['publickey'])
      if (ctx.signature) {
        state.authenticated++
        state.users.push(ctx.username)
      }
      ctx.accept()
    })
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession()
        session.once('exec', (accept, _reject, info) => {
          state.commands.push(info.command)
          const stream = accept()
          state.activeSessions++
          state.maxActiveSessions = Math.max(state.maxActiveSessions, state.activeSessions)
          let done = false
          stream.on('close', () => {
            if (!done) state.sessionsClosedEarly++
            done = true
            state.activeSessions--
          })
          const finished = (): void => {
            done = true
          }
          if (options.realShell) runInShell(info.command, stream, session, finished)
          else run(info.command, stream, client, finished)
        })
      })
      client.on('tcpip', (accept, reject, info) => {
        if (!options.allowForwarding) return reject()
        state.forwards.push({host: info.destIP, port: info.destPort})
        const upstream = net.connect(info.destPort, info.destIP)
        upstream.once('error', () => reject())
        upstream.once('connect', () => {
          const channel = accept()
          upstream.pipe(channel).pipe(upstream)
          channel.on('close', () => upstream.destroy())
          upstream.on('close', () => channel.close())
        })
      })
    })
    client.on('error', () => {})
  })

  const tcp = net.createServer((socket) => {
    state.tcpConnections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    ssh.injectSocket(socket)
  })
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve))
  state.port = (tcp.address() as net.AddressInfo).port
  return state
}

function runInShell(command: string, stream: ServerChannel, session: {on(event: 'signal', listener: (accept: (() => void) | undefined, reject: unknown, info: {name: string}) => void): unknown}, finished: () => void): void {
  const child = spawn('/bin/sh', ['-c', command], {detached: true, stdio: ['pipe', 'pipe', 'pipe']})
  stream.pipe(child.stdin)
  child.stdin.on('error', () => {})
  child.stdout.pipe(stream, {end: false})
  child.stderr.pipe(stream.stderr, {end: false})
  session.on('signal', (accept, _reject, info) => {
    accept?.()
    try {
      process.kill(child.pid!, `SIG${info.name}` as NodeJS.Signals)
    } catch {
      // already gone
    }
  })
  stream.on('close', () => {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // already gone
    }
  })
  child.on('close', (code, signal) => {
    finished()
    if (signal) stream.exit(signal.replace(/^SIG/, ''), false, 'killed')
    else stream.exit(code ?? 0)
    stream.end()
  })
}

function run(command: string, stream: ServerChannel, client: Connection, finished: () => void): void {
  const [verb, ...rest] = command.split(' ')
  const arg = rest.join(' ')
  const exit = (code: number): void => {
    finished()
    stream.exit(code)
    stream.end()
  }
  switch (verb) {
    case 'sleep': {
      const timer = setTimeout(() => exit(0), Number(arg))
      stream.on('close', () => clearTimeout(timer))
      stream.resume()
      return
    }
    case 'exit':
      stream.resume()
      return exit(Number(arg))
    case 'out':
      stream.resume()
      stream.write(arg)
      return exit(0)
    case 'err':
      stream.resume()
      stream.stderr.write(arg)
      return exit(0)
    case 'cat':
      stream.on('data', (chunk: Buffer) => stream.write(chunk))
      stream.on('end', () => exit(0))
      return
    case 'count': {
      let bytes = 0
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length
      })
      stream.on('end', () => {
        stream.write(String(bytes))
        exit(0)
      })
      return
    }
    case 'kill':
      stream.resume()
      finished()
      stream.exit('TERM', false, 'killed')
      stream.end()
      return
    case 'hang':
      stream.resume()
      return
    case 'drop':
      stream.resume()
      ;(client as unknown as {_sock: net.Socket})._sock.destroy()
      return
    default:
      stream.resume()
      stream.write(`ran: ${command}`)
      return exit(0)
  }
}

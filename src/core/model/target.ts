import {UserError} from '../errors.js'

/** `[USER@]HOST[:PORT]`, `[USER@][v6addr]:PORT`, or `local`. */
export interface Target {
  host: string
  user: string | null
  port: number | null
}

export function parseTarget(text: string): Target {
  const input = text.trim()
  if (input === '') throw new UserError('Expected a node address like root@10.0.0.5:22, a ~/.ssh/config alias, or local; got an empty string.')
  if (input === 'local') return {host: 'local', user: null, port: null}
  let rest = input
  let user: string | null = null
  const at = rest.lastIndexOf('@')
  if (at >= 0) {
    user = rest.slice(0, at)
    rest = rest.slice(at + 1)
    if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(user)) throw new UserError(`${JSON.stringify(input)}: ${JSON.stringify(user)} is not a valid user name.`)
  }

  let host = rest
  let port: number | null = null
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest)
  if (bracket) {
    host = bracket[1]!
    port = bracket[2] === undefined ? null : Number(bracket[2])
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    const [h, p] = rest.split(':')
    host = h!
    if (!/^\d+$/.test(p!)) throw new UserError(`${JSON.stringify(input)}: the port must be a number, e.g. ${h}:22.`)
    port = Number(p)
  }

  if (port !== null && (port < 1 || port > 65_535)) throw new UserError(`${JSON.stringify(input)}: port ${port} is out of range (1-65535).`)
  if (host === '' || /[\s/\\'"`$;&|<>]/.test(host)) throw new UserError(`${JSON.stringify(input)} is not a host name or address.`)
  return {host, user, port}
}

/** A default node name from a target: the host as typed, made name-safe. */
export function defaultNodeName(target: Target): string {
  return target.host.replace(/[^a-z0-9._-]+/gi, '-').replace(/^-+|-+$/g, '') || 'node'
}

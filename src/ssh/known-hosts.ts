/**
 * OpenSSH known_hosts files: parsing and the one question the pool asks,
 * "is this the key we know for host:port?".
 *
 * Supported: plain names, comma-separated pattern lists with `*`, `?` and `!negation`,
 * `[host]:port` for non-22 ports, hashed names (`|1|salt|hmac-sha1`, HashKnownHosts),
 * `@revoked` lines (that key is refused for the hosts the line matches). `@cert-authority`
 * lines are skipped (certificates are not supported), as are comments and blank lines.
 * Not supported: CheckHostIP (lookups are by the name we connect to), HostKeyAlias.
 */
import {createHmac, timingSafeEqual} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {fingerprintOf} from './host-key.js'

export interface KnownHostEntry {
  file: string
  /** 1-based line number, for messages. */
  line: number
  marker: 'revoked' | 'cert-authority' | undefined
  /** Pattern list (plain entries) or salt + HMAC (hashed entries). */
  hosts: {kind: 'patterns'; patterns: string[]} | {kind: 'hashed'; salt: Buffer; hash: Buffer}
  /** Key type as written, e.g. `ssh-ed25519`. */
  algorithm: string
  key: Buffer
}

export type KnownHostsStatus = 'match' | 'mismatch' | 'unknown' | 'revoked'

export interface KnownHostsCheck {
  /**
   * match: the key is listed for this host. mismatch: the host is listed, but not with
   * this key (including when only other key types are listed). unknown: the host is not
   * listed at all. revoked: an @revoked line matching this host lists this key.
   */
  status: KnownHostsStatus
  /** Key types listed for this host (not revoked), in file order, deduplicated. */
  algorithms: string[]
  /** Fingerprints of the keys listed for this host, for messages. */
  knownFingerprints: string[]
  /** Where the deciding line is (the matching, revoked, or first listed entry). */
  source: {file: string; line: number} | undefined
}

/** ~/.ssh/known_hosts, then the system-wide file, as OpenSSH reads them. */
export function defaultKnownHostsFiles(homeDir: string = homedir()): string[] {
  return [join(homeDir, '.ssh', 'known_hosts'), join(homeDir, '.ssh', 'known_hosts2'), '/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']
}

/** The name a host is filed under: `host` on port 22, `[host]:port` otherwise; lower case. */
export function knownHostName(hostname: string, port: number): string {
  const host = hostname.toLowerCase()
  return port === 22 ? host : `[${host}]:${port}`
}

/** Parse one known_hosts file's text. Malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file = '<known_hosts>'): KnownHostEntry[] {
  const entries: KnownHostEntry[] = []
  const lines = text.split(/\r?\n/)
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!.trim()
    if (raw === '' || raw.startsWith('#')) continue
    const fields = raw.split(/[ \t]+/)
    let marker: KnownHostEntry['marker']
    if (fields[0]!.startsWith('@')) {
      const name = fields.shift()!
      if (name === '@revoked') marker = 'revoked'
      else if (name === '@cert-authority') marker = 'cert-authority'
      else continue
    }
    const [hostField, algorithm, keyText] = fields
    if (hostField === undefined || algorithm === undefined || keyText === undefined) continue
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyText)) continue
    const key = Buffer.from(keyText, 'base64')
    if (key.length === 0) continue
    let hosts: KnownHostEntry['hosts']
    if (hostField.startsWith('|1|')) {
      const [, , salt, hash] = hostField.split('|')
      if (salt === undefined || hash === undefined) continue
      hosts = {kind: 'hashed', salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64')}
      if (hosts.salt.length === 0 || hosts.hash.length !== 20) continue
    } else {
      hosts = {kind: 'patterns', patterns: hostField.split(',').filter((pattern) => pattern !== '')}
    }
    entries.push({file, line: index + 1, marker, hosts, algorithm, key})
  }
  return entries
}

/** Does this entry's host field name `name` (as built by knownHostName)? */
export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  if (entry.hosts.kind === 'hashed') {
    const digest = createHmac('sha1', entry.hosts.salt).update(name).digest()
    return timingSafeEqual(digest, entry.hosts.hash)
  }
  let matched = false
  for (const pattern of entry.hosts.patterns) {
    const negated = pattern.startsWith('!')
    if (globMatch(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) return false
      matched = true
    }
  }
  return matched
}

/** Read and parse known_hosts files; missing files are simply skipped. */
export function readKnownHosts(files: readonly string[]): KnownHostEntry[] {
  const entries: KnownHostEntry[] = []
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') continue
      throw error
    }
    entries.push(...parseKnownHosts(text, file))
  }
  return entries
}

/** Check a host key against already parsed entries. */
export function checkKnownHostEntries(
  entries: readonly KnownHostEntry[],
  hostname: string,
  port: number,
  key: {algorithm: string; blob: Buffer},
): KnownHostsCheck {
  const name = knownHostName(hostname, port)
  const relevant = entries.filter((entry) => entry.marker !== 'cert-authority' && entryMatchesHost(entry, name))
  const revoked = relevant.find((entry) => entry.marker === 'revoked' && entry.key.equals(key.blob))
  const listed = relevant.filter((entry) => entry.marker === undefined)
  const algorithms = [...new Set(listed.map((entry) => entry.algorithm))]
  const knownFingerprints = [...new Set(listed.map((entry) => fingerprintOf(entry.key)))]
  if (revoked) return {status: 'revoked', algorithms, knownFingerprints, source: {file: revoked.file, line: revoked.line}}
  const same = listed.find((entry) => entry.key.equals(key.blob))
  if (same) return {status: 'match', algorithms, knownFingerprints, source: {file: same.file, line: same.line}}
  const first = listed[0]
  if (first) return {status: 'mismatch', algorithms, knownFingerprints, source: {file: first.file, line: first.line}}
  return {status: 'unknown', algorithms, knownFingerprints, source: undefined}
}

/** Read the files and check the key: 'match' | 'mismatch' | 'unknown' | 'revoked', plus the key types known for the host. */
export function checkKnownHosts(
  files: readonly string[],
  hostname: string,
  port: number,
  key: {algorithm: string; blob: Buffer},
): KnownHostsCheck {
  return checkKnownHostEntries(readKnownHosts(files), hostname, port, key)
}

/** Key types listed (and not revoked) for host:port, in file order: the connection offers these first. */
export function knownHostAlgorithms(entries: readonly KnownHostEntry[], hostname: string, port: number): string[] {
  const name = knownHostName(hostname, port)
  return [...new Set(entries.filter((entry) => entry.marker === undefined && entryMatchesHost(entry, name)).map((entry) => entry.algorithm))]
}

/** OpenSSH pattern: `*` any run, `?` one character, everything else literal, case-insensitive. */
function globMatch(pattern: string, text: string): boolean {
  const source = pattern
    .toLowerCase()
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('')
  return new RegExp(`^${source}$`, 's').test(text)
}

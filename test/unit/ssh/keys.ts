/** Test keys generated at test time with ssh-keygen (no private key is ever committed). */
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

export interface TestKey {
  /** Private key file. */
  path: string
  /** `ssh-ed25519 AAAA... comment` */
  publicLine: string
  algorithm: string
  blob: Buffer
  /** As printed by `ssh-keygen -lf`. */
  fingerprint: string
}

export function generateKey(dir: string, name: string, type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519', passphrase = ''): TestKey {
  const path = join(dir, name)
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', passphrase, '-C', name, '-f', path], {stdio: 'ignore'})
  const publicLine = readFileSync(`${path}.pub`, 'utf8').trim()
  const [algorithm, base64] = publicLine.split(' ') as [string, string]
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], {encoding: 'utf8'}).split(' ')[1]!
  return {path, publicLine, algorithm, blob: Buffer.from(base64, 'base64'), fingerprint}
}

/**
 * Host key helpers: the algorithm inside an SSH public key blob and the fingerprint
 * OpenSSH prints for it (`ssh-keygen -lf`, the "SHA256:..." line sshd logs).
 */
import {createHash} from 'node:crypto'
import type {HostKeyInfo} from '../core/transport.js'

/** `SHA256:` + unpadded base64 of sha256(blob), exactly as `ssh-keygen -lf` prints it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

/**
 * The key type named at the start of an SSH wire-format public key blob
 * (uint32 length + string), e.g. `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`.
 * Note: an RSA host key is `ssh-rsa` here even when the signature algorithm
 * negotiated for it is rsa-sha2-512.
 */
export function algorithmOf(blob: Buffer): string {
  if (blob.length < 4) throw new Error('SSH public key blob is too short')
  const length = blob.readUInt32BE(0)
  if (length === 0 || length > 64 || 4 + length > blob.length) throw new Error('SSH public key blob has an invalid type field')
  const algorithm = blob.toString('latin1', 4, 4 + length)
  if (!/^[\x21-\x7e]+$/.test(algorithm)) throw new Error('SSH public key blob has an invalid type field')
  return algorithm
}

/** Everything callers keep about a host key: type, fingerprint and the key itself (base64, as in known_hosts). */
export function hostKeyInfo(blob: Buffer): HostKeyInfo {
  return {algorithm: algorithmOf(blob), fingerprint: fingerprintOf(blob), key: blob.toString('base64')}
}

/**
 * Canonical form of a SHA256 fingerprint typed by a person or stored earlier:
 * accepts `SHA256:abc…`, `sha256:abc…`, a bare `abc…`, with or without `=` padding.
 * Returns undefined when the text is not a SHA256 fingerprint (MD5 `aa:bb:…` is not supported).
 */
export function normalizeFingerprint(text: string): string | undefined {
  let body = text.trim()
  const prefix = /^sha256:/i
  if (prefix.test(body)) body = body.replace(prefix, '')
  body = body.replace(/=+$/, '')
  if (!/^[A-Za-z0-9+/]{43}$/.test(body)) return undefined
  return `SHA256:${body}`
}

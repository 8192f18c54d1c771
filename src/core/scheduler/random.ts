/**
 * A seeded PRNG (mulberry32): the scheduler's only source of randomness, so that a
 * plan can be replayed from its seed (DESIGN principle 5). Not for cryptography.
 */
import {BugError} from '../errors.js'

export type Rng = () => number

/** Uniform floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Folds any safe integer seed into 32 bits. */
export function seed32(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new BugError(`scheduler seed must be a safe integer, got ${String(seed)}`)
  const low = seed % 4294967296
  const high = Math.floor(seed / 4294967296)
  return (low ^ Math.imul(high, 0x9e3779b1)) >>> 0
}

/** A seeded permutation of 0..n-1 (Fisher-Yates). */
export function seededPermutation(n: number, seed: number): Int32Array {
  const rng = mulberry32(seed32(seed))
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) out[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}

/** Injected sources of non-determinism (DESIGN principle 5). */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
}

export const systemClock: Clock = {now: () => Date.now()}

/** A clock for tests: time moves only when told to. */
export class ManualClock implements Clock {
  constructor(private current = 1_750_000_000_000) {}
  now(): number {
    return this.current
  }

  advance(ms: number): void {
    this.current += ms
  }
}

/** Asynchronous mechanisms shared by every layer: bounded concurrency and an abortable sleep. */

/**
 * Runs `fn` over `items` with at most `limit` calls in flight (at least one), in the
 * items' order of starting. Resolves when all are done; `fn` handles its own errors
 * (a rejection rejects the whole, as Promise.all does).
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      await fn(items[index]!, index)
    }
  }

  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, () => worker()))
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }

    signal?.addEventListener('abort', done, {once: true})
  })
}

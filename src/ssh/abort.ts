/** What an aborted operation rejects with: the signal's own reason, else a standard AbortError. */
export function abortReason(signal: AbortSignal | undefined): unknown {
  const reason: unknown = signal?.reason
  if (reason !== undefined) return reason
  const error = new Error('The operation was aborted')
  error.name = 'AbortError'
  return error
}

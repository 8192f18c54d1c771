/** What several e2e suites share: the `ps --json` rows they read and a patient HTTP GET. */

export interface TaskJson {
  id: string
  job: string
  instance: number
  node: string | null
  state: string
  ports: Array<{containerPort: number; hostPort: number; protocol: string; endpoint: string | null}>
  reason: string | null
}

/**
 * GET, retried for a few seconds: `run` returns once the container has started, and
 * the server in it needs a moment to bind its port (health checks gate that later).
 */
export async function httpGet(url: string): Promise<string> {
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      const res = await fetch(url, {signal: AbortSignal.timeout(3000)})
      return await res.text()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}

/**
 * The e2e test bed of this mocha run, brought up once by test/e2e/setup.ts.
 * Tests call getTestbed(); they never bring a test bed up themselves.
 */
import {sshRun, type Testbed} from '../testbed/testbed.js'

// On globalThis, not in a module variable: the same test bed whichever way
// (and however often) this module is loaded.
const KEY = Symbol.for('clusterctl.e2e.testbed')

interface Holder {
  [KEY]?: Testbed
}

/** For test/e2e/setup.ts only. */
export function setTestbed(tb: Testbed | undefined): void {
  const g = globalThis as Holder
  if (tb === undefined) delete g[KEY]
  else g[KEY] = tb
}

export function getTestbed(): Testbed {
  const tb = (globalThis as Holder)[KEY]
  if (!tb) {
    throw new Error('the e2e test bed is not up: run mocha with --file test/e2e/setup.ts (as scripts/test.sh does) or --require test/e2e/setup.ts')
  }
  return tb
}

/**
 * Every clusterctl container on the test bed's hosts, as `host/runtime/name`. A suite's
 * after hook checks this is empty: nothing a test started may outlive it (the next
 * suite counts containers).
 */
export async function clusterContainers(tb: Testbed, runtimes: ReadonlyArray<'podman' | 'containerd'> = ['podman', 'containerd']): Promise<string[]> {
  const lists = await Promise.all(
    tb.hosts
      .filter((h) => h.runtimes.length > 0)
      .flatMap((h) =>
        runtimes
          .filter((r) => h.runtimes.includes(r))
          .map(async (r) => {
            const cmd = r === 'podman' ? `podman ps -a --filter label=io.clusterctl.cluster --format '{{.Names}}'` : 'ctr -n clusterctl containers ls -q'
            const out = await sshRun(tb, h.name, cmd, {timeoutMs: 60_000})
            if (out.code !== 0) throw new Error(`listing ${r} containers on ${h.name} failed: ${out.stderr}`)
            return out.stdout
              .split('\n')
              .filter(Boolean)
              .map((name) => `${h.name}/${r}/${name}`)
          }),
      ),
  )
  return lists.flat()
}

/** Polls `fn` every `everyMs` until it returns something truthy, which it returns; fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false>, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

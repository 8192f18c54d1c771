/**
 * Runs benchmark modules, prints their sections and rewrites docs/performance.md.
 *
 *   npm run bench                 every module in MODULES
 *   npm run bench -- scheduler    only the named ones; other sections of the file are kept
 *   npm run bench -- --no-write   print only
 *
 * A module exports `name` and `run(): Promise<BenchSection>`. Figures should be ratios
 * against a baseline run in the same process: shared machines are noisy.
 */
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {BenchModule, BenchSection} from './types.js'

/** Add a module here to have it run and documented. */
const MODULES: ReadonlyArray<() => Promise<BenchModule>> = [() => import('./scheduler.bench.js'), () => import('./packing.bench.js'), () => import('./foundation.bench.js'), () => import('./reconcile.bench.js'), () => import('./listings.bench.js'), () => import('./session.bench.js'), () => import('./scheduled.bench.js'), () => import('./history.bench.js'), () => import('./scale.bench.js'), () => import('./health.bench.js'), () => import('./edge.bench.js'), () => import('./edge-ready.bench.js')]

const DOC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'performance.md')

const HEADER = `# Performance

Written by \`npm run bench\` (bench/run.ts): do not edit by hand. Each section names the
machine and the date it was measured on, and compares against a baseline run in the
same process, because absolute times on shared machines vary from run to run.
`

function machine(): string {
  const cpus = os.cpus()
  const model = cpus[0]?.model.trim() ?? 'unknown cpu'
  return `Node ${process.version}, ${model} (${cpus.length} logical cores, load average ${os.loadavg()[0]!.toFixed(1)} at start), ${os.platform()} ${os.arch()}, ${new Date().toISOString().slice(0, 10)}`
}

function render(name: string, section: BenchSection, facts: string): string {
  return `<!-- bench:${name} -->\n## ${section.title}\n\n_Measured with ${facts}._\n\n${section.body.trim()}\n<!-- /bench:${name} -->`
}

/** Sections already in the file, by module name. */
function existing(): Map<string, string> {
  const out = new Map<string, string>()
  if (!existsSync(DOC)) return out
  const text = readFileSync(DOC, 'utf8')
  for (const m of text.matchAll(/<!-- bench:([\w-]+) -->[\s\S]*?<!-- \/bench:\1 -->/g)) out.set(m[1]!, m[0])
  return out
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const write = !args.includes('--no-write')
  const wanted = args.filter((a) => !a.startsWith('--'))
  const modules = await Promise.all(MODULES.map((load) => load()))
  const names = modules.map((m) => m.name)
  const unknown = wanted.filter((w) => !names.includes(w))
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}; available: ${names.join(', ')}`)
    process.exitCode = 2
    return
  }
  const sections = existing()
  for (const m of modules) {
    if (wanted.length > 0 && !wanted.includes(m.name)) continue
    const facts = machine()
    console.log(`== ${m.name} (${facts})`)
    const section = await m.run()
    console.log(`\n## ${section.title}\n\n${section.body.trim()}\n`)
    sections.set(m.name, render(m.name, section, facts))
  }
  if (!write) return
  // Listed modules first, in MODULES order; sections of modules no longer listed are kept at the end.
  const ordered = [...names.filter((n) => sections.has(n)), ...[...sections.keys()].filter((n) => !names.includes(n))]
  writeFileSync(DOC, `${HEADER}\n${ordered.map((n) => sections.get(n)!).join('\n\n')}\n`)
  console.log(`wrote ${path.relative(process.cwd(), DOC)}`)
}

await main()

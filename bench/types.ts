/** What a benchmark module exports (listed in bench/run.ts). */
export interface BenchSection {
  /** Section heading in docs/performance.md. */
  title: string
  /** Markdown: tables and the few sentences needed to read them. */
  body: string
}

export interface BenchModule {
  /** Short name for `npm run bench -- NAME`. */
  name: string
  run(): Promise<BenchSection>
}

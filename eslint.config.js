// Lint rules, including the dependency rule of docs/architecture.md (no-restricted-imports).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const uiAndCli = ['ink', 'ink-*', 'react', 'react/*', 'chalk', 'cli-table3', '@oclif/*']
const io = ['better-sqlite3', 'ssh2', 'execa', 'node:child_process', 'node:fs', 'node:fs/promises', 'node:net']

function restrict(patterns, message) {
  return {'no-restricted-imports': ['error', {patterns: [{group: patterns, message}]}]}
}

// The dependency rule by folder (docs/architecture.md, "Dependency rule"). Each file falls
// under exactly one layer (the `ignores` keep them disjoint: a later config object would
// replace an earlier one's no-restricted-imports, not add to it). A new file in a folder
// gets its folder's rule; in core/reconcile a new file is pure unless listed as effectful.
const folder = (name) => [`**/${name}/**`]
const inner = {
  model: folder('core/model'),
  scheduler: folder('scheduler'),
  spec: folder('spec'),
  reconcile: folder('reconcile'),
  state: folder('state'),
  services: folder('services'),
  inventory: folder('inventory'),
  health: folder('core/health'),
  edge: folder('core/edge'),
  runtime: folder('runtime'),
  ssh: folder('ssh'),
  ui: folder('ui'),
  cli: folder('cli'),
  commands: folder('commands'),
}
const not = (...names) => names.flatMap((n) => inner[n])
const EFFECTFUL_RECONCILE = ['src/core/reconcile/{pass,daemon,controller,observe,runs,edges}.ts']
const PURE_UI = ['src/ui/dashboard/{reducer,selectors,findings,format,types}.ts']
const noClockNoRandom = {
  'no-restricted-properties': [
    'error',
    {object: 'Date', property: 'now', message: 'Pure code takes `now` as an argument (DESIGN principle 5).'},
    {object: 'Math', property: 'random', message: 'Pure code takes a seed (DESIGN principle 5).'},
  ],
}

function layer(files, banned, message, {pure = false, ignores = []} = {}) {
  return {files, ignores, rules: {...restrict(banned, `${message} (docs/architecture.md, dependency rule)`), ...(pure ? noClockNoRandom : {})}}
}

function layers() {
  const pureLibs = [...uiAndCli, ...io]
  return [
    layer(['src/core/model/**'], [...pureLibs, ...not('scheduler', 'spec', 'reconcile', 'state', 'services', 'inventory', 'runtime', 'ssh', 'ui', 'cli', 'commands')], 'core/model is plain types: it imports only core/model and core/errors', {pure: true}),
    layer(['src/core/scheduler/**'], [...pureLibs, ...not('spec', 'reconcile', 'state', 'services', 'inventory', 'runtime', 'ssh', 'ui', 'cli', 'commands')], 'The scheduler is pure: model types in, a plan out', {pure: true}),
    layer(['src/core/schedule/**'], [...pureLibs, ...not('reconcile', 'state', 'services', 'runtime', 'ssh', 'ui', 'cli', 'commands')], 'Schedules (cron, Chronos intervals) are pure: times in, times out', {pure: true}),
    layer(['src/core/spec/**'], [...pureLibs, ...not('reconcile', 'state', 'services', 'runtime', 'ssh', 'ui', 'cli', 'commands')], 'Spec parsing is pure', {pure: true}),
    layer(['src/core/health/**'], [...pureLibs, ...not('reconcile', 'state', 'services', 'scheduler', 'runtime', 'ssh', 'ui', 'cli', 'commands')], 'The health probe (script builder, parser, conditions, trends) is pure', {pure: true}),
    layer(['src/core/edge/**'], [...pureLibs, ...not('reconcile', 'state', 'services', 'scheduler', 'runtime', 'ssh', 'ui', 'cli', 'commands'), '!**/reconcile/health*'], 'Service ports, the HAProxy configuration and its runtime-API commands are pure: data in, text out', {pure: true}),
    layer(['src/core/inventory/**'], [...pureLibs, ...not('reconcile', 'state', 'services', 'scheduler', 'ssh', 'ui', 'cli', 'commands')], 'Inventory parsing is pure', {pure: true}),
    layer(['src/core/reconcile/**'], [...pureLibs, ...not('state', 'services', 'ui', 'cli', 'commands'), '**/ssh/**', '!**/ssh/quote*', '**/runtime/client*', '**/reconcile/pass*', '**/reconcile/daemon*', '**/reconcile/controller*', '**/reconcile/observe.js'], 'The reconciler\'s pure half (diff, plan, report, heartbeat, health, moves...) does no I/O', {pure: true, ignores: EFFECTFUL_RECONCILE}),
    layer(EFFECTFUL_RECONCILE, [...uiAndCli, ...not('services', 'ssh', 'ui', 'cli', 'commands')], 'The pass, the daemon and the controller reach nodes through the Transport interface and the store, never SSH, services or UI'),
    layer(['src/core/state/**'], [...uiAndCli, ...not('scheduler', 'reconcile', 'services', 'runtime', 'ssh', 'ui', 'cli', 'commands')], 'core/state is the store: SQL over model types'),
    layer(['src/core/services/**'], [...uiAndCli, ...not('ssh', 'ui', 'cli', 'commands')], 'Services reach nodes through the injected Connector and Transport, and never present'),
    layer(['src/core/*.ts'], [...uiAndCli, ...not('state', 'services', 'reconcile', 'scheduler', 'runtime', 'ssh', 'ui', 'cli', 'commands'), '!**/state/store*'], 'core\'s contracts (context, transport, clock, errors, async) sit at the bottom'),
    layer(['src/runtime/**'], [...pureLibs, ...not('scheduler', 'spec', 'reconcile', 'state', 'services', 'inventory', 'ssh', 'ui', 'cli', 'commands')], 'Runtime drivers are pure argv builders and parsers; the client runs them over a Transport', {pure: true}),
    layer(['src/ssh/**'], [...uiAndCli, ...not('scheduler', 'spec', 'reconcile', 'state', 'services', 'inventory', 'runtime', 'ui', 'cli', 'commands')], 'src/ssh implements the Transport: ssh2, execa, core/model, core/errors and core/transport only'),
    layer(PURE_UI, [...pureLibs, ...not('ssh', 'state', 'services', 'reconcile', 'runtime', 'cli', 'commands')], 'The dashboard\'s reducer and selectors are pure', {pure: true}),
    layer(['src/ui/**'], ['ssh2', 'better-sqlite3', 'execa', ...not('ssh', 'state', 'runtime', 'cli', 'commands'), '**/reconcile/pass*', '**/reconcile/daemon*', '**/reconcile/controller*', '**/reconcile/observe*'], 'UI renders model types and reports; it must not reach SSH, the store or the pass', {ignores: PURE_UI}),
    layer(['src/commands/**'], [...not('state', 'ssh', 'runtime')], 'Commands are thin: flags in, one service call, a presenter out; the store and SSH are reached through src/cli and core/services'),
  ]
}

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'oclif.manifest.json', '.testbed/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly'}},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {sourceType: 'commonjs', globals: {require: 'readonly', module: 'writable'}},
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
  ...layers(),
)

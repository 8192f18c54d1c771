// Lint rules, including the dependency rule of docs/architecture.md (no-restricted-imports).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const uiAndCli = ['ink', 'ink-*', 'react', 'react/*', 'chalk', 'cli-table3', '@oclif/*']
const io = ['better-sqlite3', 'ssh2', 'execa', 'node:child_process', 'node:fs', 'node:fs/promises', 'node:net']

function restrict(patterns, message) {
  return {'no-restricted-imports': ['error', {patterns: [{group: patterns, message}]}]}
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
  {
    files: ['src/core/model/**', 'src/core/scheduler/**', 'src/core/schedule/**', 'src/core/reconcile/{diff,heartbeat,observation,health,moves}.ts', 'src/core/spec/**', 'src/runtime/**', 'src/ui/state/**', 'src/ui/dashboard/{reducer,selectors,findings,format,types}.ts'],
    rules: restrict([...uiAndCli, ...io, '**/state/**', '**/ssh/pool*', '**/ssh/ssh-*'], 'Pure core: no I/O, UI or CLI imports (docs/architecture.md).'),
  },
  {
    files: ['src/core/state/**', 'src/core/services/**', 'src/core/reconcile/{pass,daemon,controller,observe}.ts', 'src/core/inventory/**'],
    rules: restrict(uiAndCli, 'Core must not import UI or CLI libraries (docs/architecture.md).'),
  },
  {
    files: ['src/ssh/**'],
    rules: restrict([...uiAndCli, '**/ui/**', '**/core/state/**', '**/core/services/**'], 'src/ssh may import ssh2, execa, core/model and core/errors only (docs/architecture.md).'),
  },
  {
    files: ['src/ui/**'],
    rules: restrict(['ssh2', 'better-sqlite3', 'execa', '**/ssh/**', '**/core/state/**'], 'UI renders model types; it must not reach SSH or the store (docs/architecture.md).'),
  },
)

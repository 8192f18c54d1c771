/**
 * `--sudo`: how a command runs as root on a node reached as an ordinary user.
 *
 * `sudo -n` (non-interactive: it fails instead of prompting for a password). sudo's
 * default `env_reset` drops the environment the container runtimes read (sshd's SetEnv,
 * the user's profile): podman would use another storage, ctr another socket. Those
 * variables are therefore passed explicitly, through `env`, and only when set:
 *   sudo -n -- env ${CONTAINERS_CONF+"CONTAINERS_CONF=$CONTAINERS_CONF"} ... ARGV
 * The expansions are the only unquoted part; they are constant (not user input), and
 * each expands to one word or to nothing in every POSIX shell.
 */
import {toShellCommand} from './quote.js'

/** What podman, buildah, ctr and nerdctl read from the environment (their configuration, storage, socket, namespace). */
export const RUNTIME_ENV: readonly string[] = Object.freeze([
  'CONTAINERS_CONF',
  'CONTAINERS_STORAGE_CONF',
  'CONTAINERS_REGISTRIES_CONF',
  'REGISTRY_AUTH_FILE',
  'CONTAINER_HOST',
  'CONTAINERD_ADDRESS',
  'CONTAINERD_NAMESPACE',
])

/** The command line for a remote login shell: argv run through sudo, the runtime's environment carried across. */
export function sudoShellCommand(argv: readonly string[]): string {
  const carry = RUNTIME_ENV.map((name) => `\${${name}+"${name}=$${name}"}`).join(' ')
  return `sudo -n -- env ${carry} ${toShellCommand(argv)}`
}

/** The argv for a local exec (no shell): the values are read here, from `env`. */
export function sudoArgv(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] {
  const carry = RUNTIME_ENV.filter((name) => env[name] !== undefined).map((name) => `${name}=${env[name]}`)
  return ['sudo', '-n', '--', 'env', ...carry, ...argv]
}

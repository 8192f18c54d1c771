import os from 'node:os'
import path from 'node:path'

/**
 * Where the state file lives: `--db`, else CLUSTERCTL_DB, else
 * $XDG_DATA_HOME/clusterctl/state.db, else ~/.local/share/clusterctl/state.db.
 */
export function resolveDbPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag)
  if (env.CLUSTERCTL_DB) return path.resolve(env.CLUSTERCTL_DB)
  const dataHome = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(env.HOME ?? os.homedir(), '.local', 'share')
  return path.join(dataHome, 'clusterctl', 'state.db')
}

/** Where resolveDbPath took the path from, for messages: `--db`, `CLUSTERCTL_DB` or the default location. */
export function dbPathOrigin(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return '--db'
  if (env.CLUSTERCTL_DB) return 'CLUSTERCTL_DB'
  return 'the default location'
}

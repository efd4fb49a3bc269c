import { userInfo } from 'node:os';

/** The audit actor for a terminal user: `cli:<LIFEGUARD_OPERATOR or the OS user>`. */
export function operatorActor(env: NodeJS.ProcessEnv): string {
  const name = env.LIFEGUARD_OPERATOR?.trim() || safeUserName();
  return `cli:${name}`;
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The database file: `--db`, then LIFEGUARD_DB, then ./data/lifeguard.db. */
export function dbPath(flag: unknown, env: NodeJS.ProcessEnv): string {
  return (typeof flag === 'string' && flag) || env.LIFEGUARD_DB || './data/lifeguard.db';
}

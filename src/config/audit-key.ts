/**
 * LIFEGUARD_AUDIT_KEY's rule, kept free of the schema library so that break-glass commands (`audit verify`,
 * `audit note`) that need nothing else from the environment start fast; `envSchema` applies the same rule.
 */

export const AUDIT_KEY_MIN = 32;
export const AUDIT_KEY_RULE = `must be at least ${AUDIT_KEY_MIN} characters (e.g. \`openssl rand -hex 32\`)`;

/** The environment has a value Lifeguard cannot use; the message names the variable and says what it needs. */
export class EnvError extends Error {
  override name = 'EnvError';
}

/** LIFEGUARD_AUDIT_KEY alone; empty means unset, as everywhere in the environment. */
export function readAuditKey(env: NodeJS.ProcessEnv): string | undefined {
  const key = env.LIFEGUARD_AUDIT_KEY;
  if (key === undefined || key === '') return undefined;
  if (key.length < AUDIT_KEY_MIN) throw new EnvError(`LIFEGUARD_AUDIT_KEY: ${AUDIT_KEY_RULE}`);
  return key;
}

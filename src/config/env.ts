import { z } from 'zod';

const AUDIT_KEY_MIN = 32;

/** The environment has a value Lifeguard cannot use; the message names the variable and says what it needs. */
export class EnvError extends Error {
  override name = 'EnvError';
}

/** The process environment Lifeguard reads (DESIGN §3); `.env.example` documents each. */
export const envSchema = z.object({
  SLACK_BOT_TOKEN: z.string().optional(),
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_APP_TOKEN: z.string().optional(),
  SLACK_API_URL: z.url().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LIFEGUARD_CONFIG: z.string().default('./lifeguard.yaml'),
  LIFEGUARD_DB: z.string().default('./data/lifeguard.db'),
  LIFEGUARD_OPERATOR: z.string().optional(),
  /** Keys the audit chain (HMAC-SHA256). Long enough that it cannot be guessed; its value is never printed. */
  LIFEGUARD_AUDIT_KEY: z.string().min(AUDIT_KEY_MIN, `must be at least ${AUDIT_KEY_MIN} characters (e.g. \`openssl rand -hex 32\`)`).optional(),
  PROMETHEUS_URL: z.url().optional(),
  KUBECONFIG: z.string().optional(),
  /** Set by the Deployment from the downward API; enables leader election on a Lease in this namespace. */
  POD_NAMESPACE: z.string().optional(),
  POD_NAME: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type Env = z.infer<typeof envSchema>;

// `NAME=` in a sourced .env means "not set", as .env.example writes the optional ones.
const setOnly = (env: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));

export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(setOnly(env));
  if (!result.success) {
    throw new EnvError(`invalid environment:\n${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return result.data;
}

/** LIFEGUARD_AUDIT_KEY alone, for CLI commands that need nothing else from the environment. */
export function readAuditKey(env: NodeJS.ProcessEnv): string | undefined {
  const result = envSchema.shape.LIFEGUARD_AUDIT_KEY.safeParse(setOnly(env).LIFEGUARD_AUDIT_KEY);
  if (!result.success) throw new EnvError(`LIFEGUARD_AUDIT_KEY: ${result.error.issues[0]!.message}`);
  return result.data;
}

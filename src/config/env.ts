import * as z from 'zod';
import { AUDIT_KEY_MIN, AUDIT_KEY_RULE, EnvError } from './audit-key.js';

export { EnvError };

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
  LIFEGUARD_AUDIT_KEY: z.string().min(AUDIT_KEY_MIN, AUDIT_KEY_RULE).optional(),
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

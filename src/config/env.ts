import { z } from 'zod';

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
  PROMETHEUS_URL: z.url().optional(),
  KUBECONFIG: z.string().optional(),
  /** Set by the Deployment from the downward API; enables leader election on a Lease in this namespace. */
  POD_NAMESPACE: z.string().optional(),
  POD_NAME: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type Env = z.infer<typeof envSchema>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  // `NAME=` in a sourced .env means "not set", as .env.example writes the optional ones.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = envSchema.safeParse(set);
  if (!result.success) {
    throw new Error(`invalid environment:\n${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return result.data;
}

import { z } from 'zod';
import { durationSchema } from './duration.js';

const PLACEHOLDERS = ['service', 'variant', 'window'] as const;

const promql = z
  .string()
  .min(1)
  .superRefine((query, ctx) => {
    for (const match of query.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
      if (!(PLACEHOLDERS as readonly string[]).includes(match[1] ?? '')) {
        ctx.addIssue({ code: 'custom', message: `unknown placeholder {{${match[1]}}} (known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')})` });
      }
    }
    if (!query.includes('{{variant}}')) {
      ctx.addIssue({ code: 'custom', message: 'the query must select the side with {{variant}} so canary and baseline can be compared' });
    }
  });

/** A reusable metric: how to query it and the rules a canary is judged by. */
export const metricTemplateSchema = z
  .object({
    kind: z.literal('prometheus').default('prometheus'),
    query: promql,
    window: durationSchema.prefault('5m'),
    max: z.number().optional(),
    min: z.number().optional(),
    maxRatioToBaseline: z.number().positive().optional(),
    minRatioToBaseline: z.number().positive().optional(),
    for: durationSchema.optional(),
    critical: z.boolean().default(false),
    weight: z.number().positive().default(1),
    /** Judge the value per unit of the traffic share each side is given (throughput). */
    perTrafficShare: z.boolean().default(false),
  })
  .strict()
  .refine((m) => m.max === undefined || m.min === undefined || m.min <= m.max, { message: 'min must not be above max', path: ['min'] })
  .refine(
    (m) => [m.max, m.min, m.maxRatioToBaseline, m.minRatioToBaseline].some((bound) => bound !== undefined),
    { message: 'a metric needs at least one bound: max, min, maxRatioToBaseline or minRatioToBaseline' },
  );

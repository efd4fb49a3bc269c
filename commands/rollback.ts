import { z } from 'zod';
import { clip, describeIssue, resolveTarget, split, tokenize, type Catalog, type Parsed } from './grammar.js';
import { reasonSchema, revisionSchema } from './common.js';

export const ROLLBACK_USAGE = '/rollback <service> [env=<environment>] [to=<revision>] reason="<why>"';

export const rollbackCommandSchema = z.object({
  service: z.string(),
  env: z.string(),
  /** Omitted: the revision before the current one. */
  to: revisionSchema.optional(),
  reason: reasonSchema,
});
export type RollbackCommand = z.infer<typeof rollbackCommandSchema>;

function fail(error: string): Parsed<RollbackCommand> {
  return { ok: false, error, usage: ROLLBACK_USAGE };
}

/** Parses the text after `/rollback`. Never throws. */
export function parseRollback(text: string, catalog: Catalog): Parsed<RollbackCommand> {
  const tokens = tokenize(text);
  if (!tokens.ok) return fail(tokens.error);
  const parts = split(tokens.tokens, ['env', 'to', 'reason']);
  if (!parts.ok) return fail(parts.error);
  const { words, options } = parts.split;
  const [service] = words;
  if (service === undefined) return fail('name the service to roll back: /rollback <service> reason="…"');
  if (words[1] !== undefined) {
    const hint = /^\d+$/.test(words[1]) ? ` (to pick a revision, write to=${words[1]})` : ' (put the reason in quotes: reason="…")';
    return fail(`unexpected "${clip(words[1])}"${hint}`);
  }
  const target = resolveTarget(catalog, service, options.env);
  if (!target.ok) return fail(target.error);
  if (options.reason === undefined) return fail('say why: add reason="…" (it goes to the audit log)');
  const raw = { service, env: target.env, to: options.to, reason: options.reason };
  const result = rollbackCommandSchema.safeParse(raw);
  return result.success ? { ok: true, command: result.data } : fail(describeIssue(result.error, raw));
}

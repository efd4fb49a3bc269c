import * as z from 'zod';
import { clip, describeIssue, resolveTarget, split, tokenize, type Catalog, type Parsed } from './grammar.js';
import { reasonSchema, releaseIdSchema, revisionSchema } from './common.js';

export const ROLLBACK_USAGE = ['/rollback <service> [env=<environment>] [to=<revision>] reason="<why>"', '/rollback postmortem <rollback-id>'].join('\n');

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

/** `/rollback postmortem <id>`: the post-mortem draft of a rollback (the number on its incident post). */
export const rollbackPostmortemSchema = z.object({ operationId: releaseIdSchema });
export type RollbackPostmortem = z.infer<typeof rollbackPostmortemSchema>;

/**
 * Parses `/rollback postmortem <id>`; undefined when the text is not that form (a rollback to ask for). The word
 * `postmortem` first always means this form, whatever the services are called.
 */
export function parseRollbackPostmortem(text: string): Parsed<RollbackPostmortem> | undefined {
  const tokens = tokenize(text);
  if (!tokens.ok) return undefined;
  const [first, ...rest] = tokens.tokens;
  if (first?.kind !== 'word' || first.value.toLowerCase() !== 'postmortem') return undefined;
  const bad = (error: string): Parsed<RollbackPostmortem> => ({ ok: false, error, usage: ROLLBACK_USAGE });
  const parts = split(rest, []);
  if (!parts.ok) return bad(parts.error);
  const [id, surplus] = parts.split.words;
  if (id === undefined) return bad('name the rollback: /rollback postmortem <id> (the "Operation #" on its incident post)');
  if (surplus !== undefined) return bad(`unexpected "${clip(surplus)}" after the id`);
  const raw = { operationId: id };
  const result = rollbackPostmortemSchema.safeParse(raw);
  return result.success ? { ok: true, command: result.data } : bad(describeIssue(result.error, raw));
}

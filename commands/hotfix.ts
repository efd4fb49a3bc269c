import * as z from 'zod';
import { URGENCIES } from '../src/config/schema.js';
import { clip, describeIssue, resolveTarget, split, tokenize, type Catalog, type Parsed } from './grammar.js';
import { reasonSchema, versionSchema } from './common.js';

export const HOTFIX_USAGE = '/hotfix <service> <version> urgency=critical|high|medium|low reason="<why>" [env=<environment>]';

export const hotfixCommandSchema = z.object({
  service: z.string(),
  env: z.string(),
  version: versionSchema,
  urgency: z.enum(URGENCIES, { error: `must be one of ${URGENCIES.join(', ')}` }),
  reason: reasonSchema,
});
export type HotfixCommand = z.infer<typeof hotfixCommandSchema>;

function fail(error: string): Parsed<HotfixCommand> {
  return { ok: false, error, usage: HOTFIX_USAGE };
}

/** Parses the text after `/hotfix`. Never throws. */
export function parseHotfix(text: string, catalog: Catalog): Parsed<HotfixCommand> {
  const tokens = tokenize(text);
  if (!tokens.ok) return fail(tokens.error);
  const parts = split(tokens.tokens, ['env', 'urgency', 'reason']);
  if (!parts.ok) return fail(parts.error);
  const { words, options } = parts.split;
  const [service, version] = words;
  if (service === undefined) return fail('name the service and the version: /hotfix <service> <version> urgency=… reason="…"');
  if (words[2] !== undefined) return fail(`unexpected "${clip(words[2])}" (put the reason in quotes: reason="…")`);
  const target = resolveTarget(catalog, service, options.env);
  if (!target.ok) return fail(target.error);
  if (version === undefined) return fail(`name the version to ship: /hotfix ${service} <version> …`);
  if (options.urgency === undefined) return fail(`say how urgent: urgency=${URGENCIES.join('|')}`);
  if (options.reason === undefined) return fail('say why: add reason="…" (it goes to the audit log)');
  const raw = { service, env: target.env, version, urgency: options.urgency, reason: options.reason };
  const result = hotfixCommandSchema.safeParse(raw);
  return result.success ? { ok: true, command: result.data } : fail(describeIssue(result.error, raw));
}

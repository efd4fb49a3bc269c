import * as z from 'zod';
import { describeIssue, resolveTarget, split, tokenize, unknownName, clip, type Catalog, type Parsed } from './grammar.js';
import { reasonSchema, releaseIdSchema, versionSchema } from './common.js';
import { durationSchema } from '../src/config/duration-schema.js';

export const RELEASE_USAGE = [
  '/release <service> <version> [env=<environment>] [strategy=canary|rolling] [force=true]',
  '/release status [service]',
  '/release history <service> [env=<environment>]',
  '/release promote|pause|resume|abort <release-id>',
  '/release freeze <environment> <duration> reason="…"',
  '/release unfreeze <environment>',
  '/release unhold <service> <version> [env=<environment>]',
  '/release help',
].join('\n');

const STRATEGIES = ['canary', 'rolling'] as const;
const CONTROLS = ['promote', 'pause', 'resume', 'abort'] as const;

const startSchema = z.object({
  action: z.literal('start'),
  service: z.string(),
  env: z.string(),
  version: versionSchema,
  strategy: z.enum(STRATEGIES, { error: 'must be canary or rolling' }).default('canary'),
  /** A release manager releases a version held after a rollback all the same. */
  force: z
    .enum(['true'], { error: 'must be true (or leave force= out)' })
    .transform(() => true as const)
    .optional(),
});
const statusSchema = z.object({ action: z.literal('status'), service: z.string().optional() });
const historySchema = z.object({ action: z.literal('history'), service: z.string(), env: z.string().optional() });
const controlSchema = z.object({ action: z.enum(CONTROLS), releaseId: releaseIdSchema });
const helpSchema = z.object({ action: z.literal('help') });
/** The longest freeze started by hand: a longer one belongs in the config, where everyone sees it. */
const MAX_FREEZE_MS = 90 * 24 * 3_600_000;
const freezeSchema = z.object({
  action: z.literal('freeze'),
  env: z.string(),
  duration: durationSchema.refine((ms) => ms <= MAX_FREEZE_MS, 'a freeze started by hand lasts at most 90d; put a longer one in the config (environments.<env>.freezes)'),
  reason: reasonSchema,
});
const unfreezeSchema = z.object({ action: z.literal('unfreeze'), env: z.string() });
const unholdSchema = z.object({ action: z.literal('unhold'), service: z.string(), version: versionSchema, env: z.string().optional() });

export const releaseCommandSchema = z.discriminatedUnion('action', [startSchema, statusSchema, historySchema, controlSchema, helpSchema, freezeSchema, unfreezeSchema, unholdSchema]);
export type ReleaseCommand = z.infer<typeof releaseCommandSchema>;

function fail(error: string): Parsed<ReleaseCommand> {
  return { ok: false, error, usage: RELEASE_USAGE };
}

function validate(raw: Record<string, unknown>): Parsed<ReleaseCommand> {
  const result = releaseCommandSchema.safeParse(raw);
  return result.success ? { ok: true, command: result.data } : fail(describeIssue(result.error, raw));
}

function extra(words: string[], expected: number): string | undefined {
  const surplus = words[expected];
  return surplus === undefined ? undefined : `unexpected "${clip(surplus)}" after the command`;
}

/** Parses the text after `/release`. Never throws. */
export function parseRelease(text: string, catalog: Catalog): Parsed<ReleaseCommand> {
  const tokens = tokenize(text);
  if (!tokens.ok) return fail(tokens.error);
  const first = tokens.tokens[0];
  if (first === undefined) return fail('say what to release, or ask for status, history or help');
  const verb = first.kind === 'word' ? first.value.toLowerCase() : undefined;

  if (verb === 'help') {
    const parts = split(tokens.tokens.slice(1), []);
    if (!parts.ok) return fail(parts.error);
    return extra(parts.split.words, 0) ? fail(extra(parts.split.words, 0)!) : validate({ action: 'help' });
  }
  if (verb === 'status') {
    const parts = split(tokens.tokens.slice(1), []);
    if (!parts.ok) return fail(parts.error);
    const [service] = parts.split.words;
    const surplus = extra(parts.split.words, 1);
    if (surplus) return fail(surplus);
    if (service !== undefined && !Object.hasOwn(catalog.services, service)) return fail(unknownName('service', service, Object.keys(catalog.services)));
    return validate({ action: 'status', service });
  }
  if (verb === 'history') {
    const parts = split(tokens.tokens.slice(1), ['env']);
    if (!parts.ok) return fail(parts.error);
    const [service] = parts.split.words;
    if (service === undefined) return fail('name the service: /release history <service>');
    const surplus = extra(parts.split.words, 1);
    if (surplus) return fail(surplus);
    const env = parts.split.options.env;
    if (!Object.hasOwn(catalog.services, service) || env !== undefined) {
      const target = resolveTarget(catalog, service, env);
      if (!target.ok) return fail(target.error);
    }
    return validate({ action: 'history', service, env });
  }
  if (verb === 'freeze' || verb === 'unfreeze') {
    const parts = split(tokens.tokens.slice(1), verb === 'freeze' ? ['reason'] : []);
    if (!parts.ok) return fail(parts.error);
    const [env, duration] = parts.split.words;
    if (env === undefined) return fail(verb === 'freeze' ? 'name the environment and how long: /release freeze <environment> <duration> reason="…"' : 'name the environment: /release unfreeze <environment>');
    const known = environmentsOf(catalog);
    if (!known.includes(env)) return fail(unknownName('environment', env, known));
    if (verb === 'unfreeze') return extra(parts.split.words, 1) ? fail(extra(parts.split.words, 1)!) : validate({ action: 'unfreeze', env });
    if (duration === undefined) return fail(`say how long the freeze lasts: /release freeze ${env} <duration> reason="…" (e.g. 2h, 3d)`);
    const surplus = extra(parts.split.words, 2);
    if (surplus) return fail(surplus);
    return validate({ action: 'freeze', env, duration, reason: parts.split.options.reason });
  }
  if (verb === 'unhold') {
    const parts = split(tokens.tokens.slice(1), ['env']);
    if (!parts.ok) return fail(parts.error);
    const [service, version] = parts.split.words;
    if (service === undefined || version === undefined) return fail('name the service and the held version: /release unhold <service> <version> [env=<environment>]');
    const surplus = extra(parts.split.words, 2);
    if (surplus) return fail(surplus);
    const env = parts.split.options.env;
    if (!Object.hasOwn(catalog.services, service) || env !== undefined) {
      const target = resolveTarget(catalog, service, env);
      if (!target.ok) return fail(target.error);
    }
    return validate({ action: 'unhold', service, version, env });
  }
  if (verb !== undefined && (CONTROLS as readonly string[]).includes(verb)) {
    const parts = split(tokens.tokens.slice(1), []);
    if (!parts.ok) return fail(parts.error);
    const [releaseId] = parts.split.words;
    if (releaseId === undefined) return fail(`name the release: /release ${verb} <release-id>`);
    const surplus = extra(parts.split.words, 1);
    if (surplus) return fail(surplus);
    return validate({ action: verb, releaseId });
  }

  const parts = split(tokens.tokens, ['env', 'strategy', 'force']);
  if (!parts.ok) return fail(parts.error);
  const [service, version] = parts.split.words;
  if (service === undefined) return fail('name the service and version: /release <service> <version>');
  if (version === undefined) {
    if (!Object.hasOwn(catalog.services, service)) return fail(unknownName('service', service, Object.keys(catalog.services)));
    return fail(`name the version to release: /release ${service} <version>`);
  }
  const surplus = extra(parts.split.words, 2);
  if (surplus) return fail(surplus);
  const target = resolveTarget(catalog, service, parts.split.options.env);
  if (!target.ok) return fail(target.error);
  return validate({ action: 'start', service, env: target.env, version, strategy: parts.split.options.strategy, force: parts.split.options.force });
}

/** The environments a freeze may name: the configured ones, else those the services run in. */
function environmentsOf(catalog: Catalog): string[] {
  return catalog.environments ?? [...new Set(Object.values(catalog.services).flat())];
}

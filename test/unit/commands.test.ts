import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHotfix, parseRelease, parseRollback, type Catalog } from '../../commands/index.js';
import { tokenize } from '../../commands/grammar.js';

const catalog: Catalog = { services: { checkout: ['staging', 'production'], payments: ['production'], search: ['staging', 'qa'] } };

describe('/release', () => {
  it('reads a release with defaults and options in any order', () => {
    expect(parseRelease('checkout 1.5.0', catalog)).toEqual({
      ok: true,
      command: { action: 'start', service: 'checkout', env: 'production', version: '1.5.0', strategy: 'canary' },
    });
    expect(parseRelease('strategy=rolling checkout env=staging v1.5.0', catalog)).toEqual({
      ok: true,
      command: { action: 'start', service: 'checkout', env: 'staging', version: 'v1.5.0', strategy: 'rolling' },
    });
  });

  it('reads status, history, controls and help', () => {
    expect(parseRelease('status', catalog)).toEqual({ ok: true, command: { action: 'status' } });
    expect(parseRelease('status checkout', catalog)).toEqual({ ok: true, command: { action: 'status', service: 'checkout' } });
    expect(parseRelease('history checkout env=staging', catalog)).toEqual({
      ok: true,
      command: { action: 'history', service: 'checkout', env: 'staging' },
    });
    expect(parseRelease('abort 42', catalog)).toEqual({ ok: true, command: { action: 'abort', releaseId: 42 } });
    expect(parseRelease('HELP', catalog)).toEqual({ ok: true, command: { action: 'help' } });
  });

  it('names the closest service and environment', () => {
    expect(parseRelease('chekout 1.5.0', catalog)).toMatchObject({ ok: false, error: 'unknown service "chekout": did you mean checkout?' });
    expect(parseRelease('checkout 1.5.0 env=prod', catalog)).toMatchObject({
      ok: false,
      error: 'checkout has no environment "prod": did you mean production?',
    });
    expect(parseRelease('zzzzzzzz 1.0', catalog)).toMatchObject({ ok: false, error: 'unknown service "zzzzzzzz" (known: checkout, payments, search)' });
  });

  it('says exactly what is wrong, with the usage line', () => {
    const cases: [string, string][] = [
      ['', 'say what to release, or ask for status, history or help'],
      ['checkout', 'name the version to release: /release checkout <version>'],
      ['checkout 1.5.0 strategy=blue', 'strategy: must be canary or rolling (got "blue")'],
      ['checkout 1.5.0 colour=blue', 'unknown option "colour=" (allowed here: env=, strategy=, force=)'],
      ['checkout 1.5.0 env=staging env=production', '"env=" is given twice'],
      ['checkout 1.5.0 extra', 'unexpected "extra" after the command'],
      ['checkout 1.5.0/evil', 'version: must be an image tag such as 1.5.0, v1.5.0 or a git sha (letters, digits, dots, dashes, underscores) (got "1.5.0/evil")'],
      ['search 2.0', 'search runs in several environments (staging, qa): name one with env=…'],
      ['abort', 'name the release: /release abort <release-id>'],
      ['checkout "1.5.0', 'a quote opened at character 10 is never closed'],
    ];
    for (const [text, error] of cases) {
      const parsed = parseRelease(text, catalog);
      expect(parsed, text).toMatchObject({ ok: false, error });
      expect(parsed.ok ? '' : parsed.usage).toContain('/release <service> <version>');
    }
  });
});

describe('/rollback', () => {
  it('reads quoted reasons, including the typographic quotes Slack clients send', () => {
    expect(parseRollback('checkout reason="error spike after 1.5.0"', catalog)).toEqual({
      ok: true,
      command: { service: 'checkout', env: 'production', reason: 'error spike after 1.5.0' },
    });
    expect(parseRollback('checkout env=staging to=41 reason=\u201cbad deploy\u201d', catalog)).toEqual({
      ok: true,
      command: { service: 'checkout', env: 'staging', to: 41, reason: 'bad deploy' },
    });
  });

  it('refuses a rollback without a reason or with a bad revision', () => {
    expect(parseRollback('checkout', catalog)).toMatchObject({ ok: false, error: 'say why: add reason="…" (it goes to the audit log)' });
    expect(parseRollback('checkout to=abc reason="x y z"', catalog)).toMatchObject({
      ok: false,
      error: 'to: must be a Deployment revision number such as 41 (got "abc")',
    });
    expect(parseRollback('checkout 41 reason="bad"', catalog)).toMatchObject({
      ok: false,
      error: 'unexpected "41" (to pick a revision, write to=41)',
    });
    expect(parseRollback('checkout reason=" "', catalog)).toMatchObject({ ok: false, error: 'reason: give a reason of at least 3 visible characters, in quotes: reason="…"' });
  });
});

describe('/hotfix', () => {
  it('reads a hotfix', () => {
    expect(parseHotfix('checkout 1.4.3 urgency=critical reason="card payments failing"', catalog)).toEqual({
      ok: true,
      command: { service: 'checkout', env: 'production', version: '1.4.3', urgency: 'critical', reason: 'card payments failing' },
    });
  });

  it('refuses an unknown urgency and a missing one', () => {
    expect(parseHotfix('checkout 1.4.3 urgency=now reason="x y z"', catalog)).toMatchObject({
      ok: false,
      error: 'urgency: must be one of critical, high, medium, low (got "now")',
    });
    expect(parseHotfix('checkout 1.4.3 reason="x y z"', catalog)).toMatchObject({ ok: false, error: 'say how urgent: urgency=critical|high|medium|low' });
  });
});

describe('reasons and ids, read by the shared rules (issue 8)', () => {
  it('a reason of invisible characters is no reason, in /rollback and /hotfix alike', () => {
    const invisible = '\u200b\u200c\u200d\u2060\ufeff';
    expect(parseRollback(`checkout reason="${invisible}"`, catalog)).toMatchObject({ ok: false, error: 'reason: give a reason of at least 3 visible characters, in quotes: reason="…"' });
    expect(parseHotfix(`checkout 1.4.3 urgency=high reason="ok${invisible}"`, catalog)).toMatchObject({ ok: false, error: 'reason: give a reason of at least 3 visible characters, in quotes: reason="…"' });
    expect(parseRollback(`checkout reason="\u200b bad deploy\u2060"`, catalog)).toMatchObject({ ok: true, command: { reason: 'bad deploy' } });
  });

  it('a reason over 500 characters is refused, saying how long it is', () => {
    expect(parseRollback(`checkout reason="${'x'.repeat(501)}"`, catalog)).toMatchObject({ ok: false, error: expect.stringMatching(/^reason: keep the reason to at most 500 characters \(it has 501\)/) });
    expect(parseRollback(`checkout reason="${'x'.repeat(500)}"`, catalog)).toMatchObject({ ok: true });
  });

  it('release ids are read strictly, as button values are', () => {
    for (const id of ['0x1', '1e0', '01', '-1', '1.0', '+1', '99999999999999999', 'abc']) {
      expect(parseRelease(`promote ${id}`, catalog), id).toMatchObject({ ok: false, error: `releaseId: must be a release number as shown on the release card, such as 42 (got "${id}")` });
    }
    expect(parseRelease('resume 7', catalog)).toEqual({ ok: true, command: { action: 'resume', releaseId: 7 } });
  });
});

describe('the parsers on arbitrary text', () => {
  const parsers = [parseRelease, parseRollback, parseHotfix];
  const slackish = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'grapheme', maxLength: 100 }),
    fc
      .array(fc.constantFrom('checkout', 'status', 'env=', 'to=', 'reason=', '"', '\u201c', '\u201d', "'", ' ', '=', 'production', '1.5.0', 'constructor', '__proto__', '\n'), { maxLength: 20 })
      .map((parts) => parts.join('')),
  );

  it('never throw, and always answer either a command or an error with the usage line', () => {
    fc.assert(
      fc.property(slackish, (text) => {
        for (const parse of parsers) {
          const parsed = parse(text, catalog);
          if (parsed.ok) expect(parsed.command).toBeTypeOf('object');
          else {
            expect(parsed.error.length).toBeGreaterThan(0);
            expect(parsed.error.length).toBeLessThan(400);
            expect(parsed.usage.length).toBeGreaterThan(0);
          }
        }
      }),
      { seed: 20261122, numRuns: 2000 },
    );
  });

  it('a parsed release always names a configured service and one of its environments', () => {
    fc.assert(
      fc.property(slackish, (text) => {
        const parsed = parseRelease(text, catalog);
        if (parsed.ok && parsed.command.action === 'start') {
          expect(catalog.services[parsed.command.service]).toContain(parsed.command.env);
        }
      }),
      { seed: 7, numRuns: 2000 },
    );
  });

  it('tokenizing a quoted value gives it back whole', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }).filter((s) => !s.includes('"')), (value) => {
        const tokens = tokenize(`reason="${value}"`);
        expect(tokens).toEqual({ ok: true, tokens: [{ kind: 'option', key: 'reason', value }] });
      }),
      { seed: 11, numRuns: 500 },
    );
  });
});

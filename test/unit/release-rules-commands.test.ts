import { describe, expect, it } from 'vitest';
import { parseRelease, type Catalog } from '../../commands/index.js';

/* The grammar of /release freeze, unfreeze, unhold and force=true. */

const catalog: Catalog = { services: { checkout: ['staging', 'production'], payments: ['production'] }, environments: ['staging', 'production', 'qa'] };

describe('/release freeze, unfreeze and unhold', () => {
  it('reads a freeze with its duration in milliseconds and its reason', () => {
    expect(parseRelease('freeze production 2h reason="Black Friday"', catalog)).toEqual({ ok: true, command: { action: 'freeze', env: 'production', duration: 7_200_000, reason: 'Black Friday' } });
    // Any configured environment, even one no service runs in yet.
    expect(parseRelease('freeze qa 30m reason=“load test”', catalog)).toMatchObject({ ok: true, command: { env: 'qa', duration: 1_800_000 } });
  });

  it.each([
    ['freeze', 'name the environment and how long'],
    ['freeze prod 2h reason="x y z"', 'unknown environment "prod": did you mean production?'],
    ['freeze production', 'say how long the freeze lasts'],
    ['freeze production soon reason="Black Friday"', 'not a duration: "soon"'],
    ['freeze production 2h', 'reason'],
    ['freeze production 300000000d reason="Black Friday"', 'a freeze started by hand lasts at most 90d'],
    ['freeze production 2h reason=" "', 'give a reason of at least 3 visible characters'],
    ['freeze production 2h now reason="Black Friday"', 'unexpected "now" after the command'],
    ['freeze production 2h env=staging reason="Black Friday"', 'unknown option "env="'],
    ['unfreeze', 'name the environment'],
    ['unfreeze production now', 'unexpected "now"'],
    ['unhold checkout', 'name the service and the held version'],
    ['unhold chekout 1.5.0', 'did you mean checkout?'],
    ['unhold checkout 1.5.0 env=qa', 'checkout has no environment "qa"'],
    ['unhold checkout <bad> env=production', 'version: must be an image tag'],
    ['checkout 1.5.0 force=yes', 'force: must be true (or leave force= out)'],
  ])('%s → %s', (text, error) => {
    const parsed = parseRelease(text, catalog);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error).toContain(error);
      expect(parsed.usage).toContain('/release freeze <environment> <duration> reason="…"');
    }
  });

  it('reads unfreeze, unhold with and without env=, and force=true on a release', () => {
    expect(parseRelease('unfreeze production', catalog)).toEqual({ ok: true, command: { action: 'unfreeze', env: 'production' } });
    expect(parseRelease('unhold checkout 1.5.0-bad', catalog)).toEqual({ ok: true, command: { action: 'unhold', service: 'checkout', version: '1.5.0-bad' } });
    expect(parseRelease('unhold checkout 1.5.0-bad env=staging', catalog)).toEqual({ ok: true, command: { action: 'unhold', service: 'checkout', version: '1.5.0-bad', env: 'staging' } });
    expect(parseRelease('checkout 1.5.0-bad force=true', catalog)).toEqual({ ok: true, command: { action: 'start', service: 'checkout', env: 'production', version: '1.5.0-bad', strategy: 'canary', force: true } });
    expect(parseRelease('checkout 1.5.0', catalog)).toMatchObject({ ok: true, command: { force: undefined } });
  });

  it('without the configured environments, a freeze may name those the services run in', () => {
    expect(parseRelease('unfreeze staging', { services: catalog.services })).toMatchObject({ ok: true });
    expect(parseRelease('unfreeze qa', { services: catalog.services })).toMatchObject({ ok: false });
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { REPO_ROOT } from '../support/cli.js';

const example = () => parse(readFileSync(join(REPO_ROOT, 'lifeguard.example.yaml'), 'utf8')) as Record<string, unknown>;

function parsed(evidence: unknown): { maxBytes: number } | string[] {
  try {
    return parseConfig({ ...example(), ...(evidence === undefined ? {} : { evidence }) }).evidence;
  } catch (error) {
    if (error instanceof ConfigError) return error.errors;
    throw error;
  }
}

describe('config evidence.maxBytes', () => {
  it('defaults to 1 MiB and reads units and plain byte counts', () => {
    expect(parsed(undefined)).toEqual({ maxBytes: 1024 * 1024 });
    expect(parsed({})).toEqual({ maxBytes: 1024 * 1024 });
    expect(parsed({ maxBytes: '512KiB' })).toEqual({ maxBytes: 512 * 1024 });
    expect(parsed({ maxBytes: '4 MiB' })).toEqual({ maxBytes: 4 * 1024 * 1024 });
    expect(parsed({ maxBytes: 100000 })).toEqual({ maxBytes: 100000 });
  });

  it('says the form it expects, and the range', () => {
    expect(parsed({ maxBytes: '1MB' })).toEqual(['evidence.maxBytes: not a byte size: "1MB" (expected a whole number of bytes, or a number and a unit: B, KiB, MiB or GiB, e.g. 512KiB, 1MiB)']);
    expect(parsed({ maxBytes: 1.5 })).toEqual(['evidence.maxBytes: not a byte size: "1.5" (expected a whole number of bytes, or a number and a unit: B, KiB, MiB or GiB, e.g. 512KiB, 1MiB)']);
    expect(parsed({ maxBytes: '1KiB' })).toEqual(['evidence.maxBytes: 1KiB is 1024 bytes: must be between 64 KiB and 64 MiB']);
    expect(parsed({ maxBytes: '1GiB' })).toEqual(['evidence.maxBytes: 1GiB is 1073741824 bytes: must be between 64 KiB and 64 MiB']);
    expect(parsed({ maxBytes: '1MiB', keep: 'all' })).toEqual(['evidence.keep: unknown field']);
  });
});

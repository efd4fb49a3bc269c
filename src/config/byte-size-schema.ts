import * as z from 'zod';
import { clip } from '../../commands/grammar.js';

const UNIT_BYTES = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;
const BYTE_SIZE = /^(\d+)\s*(B|KiB|MiB|GiB)?$/;

/** A size in bytes written in the config: `1MiB`, `512KiB`, or a whole number of bytes. */
export function byteSizeSchema(bounds: { min: number; max: number }) {
  const form = `a whole number of bytes, or a number and a unit: B, KiB, MiB or GiB, e.g. 512KiB, 1MiB`;
  const range = `between ${bounds.min / 1024} KiB and ${bounds.max / 1024 ** 2} MiB`;
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const match = typeof value === 'number' ? (Number.isInteger(value) ? ['', String(value), 'B'] : null) : BYTE_SIZE.exec(value.trim());
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `not a byte size: "${clip(String(value))}" (expected ${form})` });
      return z.NEVER;
    }
    const bytes = Number(match[1]) * UNIT_BYTES[(match[2] ?? 'B') as keyof typeof UNIT_BYTES];
    if (bytes < bounds.min || bytes > bounds.max) {
      ctx.addIssue({ code: 'custom', message: `${clip(String(value))} is ${bytes} bytes: must be ${range}` });
      return z.NEVER;
    }
    return bytes;
  });
}

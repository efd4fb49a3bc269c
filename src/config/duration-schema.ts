import * as z from 'zod';
import { clip } from '../../commands/grammar.js';
import { parseDuration } from './duration.js';

/** A duration written as text in the config, parsed to milliseconds. */
export const durationSchema = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms === 0) {
    ctx.addIssue({ code: 'custom', message: `not a duration: "${clip(text)}" (expected a positive number and a unit: ms, s, m, h or d, e.g. 30s, 5m, 60h)` });
    return z.NEVER;
  }
  return ms;
});

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';

/** Where a running demo tells `npm run demo:slash` how to reach it; readable by its owner only (it holds the signing secret). */
export const SESSION_FILE = join(tmpdir(), 'lifeguard-demo-session.json');

/** `db`: the demo's database, where a click finds the card of a request. */
const sessionSchema = z.object({ url: z.url(), signingSecret: z.string().min(1), db: z.string().min(1), pid: z.number().int() });
export type Session = z.infer<typeof sessionSchema>;

export function writeSession(session: Session, file = SESSION_FILE): string {
  writeFileSync(file, JSON.stringify(session), { mode: 0o600 });
  return file;
}

/** Removes the file if it is still this process's (a demo started later may have replaced it). */
export function removeSession(file: string, pid: number): void {
  try {
    if (readSession(file).pid === pid) rmSync(file, { force: true });
  } catch {
    // already gone or replaced by something unreadable: not ours to remove
  }
}

export function readSession(file = SESSION_FILE): Session {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no running demo found (${file} is missing): start one with \`npm run demo\` in another terminal`);
  }
  const parsed = sessionSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`${file} is not a demo session file; remove it and restart \`npm run demo\``);
  return parsed.data;
}

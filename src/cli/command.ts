import type { ParseArgsConfig } from 'node:util';

/** Exit codes shared by every command (DESIGN §3). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /**
   * Standard output as a stream, for output too large to hold (audit export), which waits on it for 'drain'.
   * In-process callers that collect lines through `out` leave it out.
   */
  stdout?: NodeJS.WritableStream;
}

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

/** One `lifeguard` sub-command: its words, usage, options, and what it does. */
export interface CliCommand {
  /** The words that select it, e.g. ['audit', 'verify']. */
  path: string[];
  usage: string;
  summary: string;
  options: Options;
  /** How many positionals it takes (min, max). */
  positionals: [number, number];
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

/** A usage error: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

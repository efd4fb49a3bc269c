import { once } from 'node:events';
import type { CliIo } from './command.js';

/**
 * Writes chunks to a stream without letting its buffer grow: a write the stream cannot take at once waits for
 * 'drain', so a slow reader (`| gzip`, a terminal, a full pipe) slows the writer down instead of the output
 * piling up in memory. A reader that went away (EPIPE, as `| head` does) ends the output quietly: `write`
 * resolves false and the command stops as if it had finished.
 */
export class StreamOut {
  private readerGone = false;
  private failure: Error | undefined;

  constructor(private readonly stream: NodeJS.WritableStream) {
    // Kept for the stream's whole life: an EPIPE can arrive after the last write returned, and unheard it would crash.
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') this.readerGone = true;
      else this.failure ??= error;
    });
  }

  /** Resolves true when the chunk was taken, false once the reader is gone; throws any other write error. */
  async write(chunk: string): Promise<boolean> {
    if (!this.open()) return false;
    if (!this.stream.write(chunk)) {
      // once() rejects on 'error'; the listener above has already recorded what it was.
      await once(this.stream, 'drain').catch(() => undefined);
    }
    return this.open();
  }

  private open(): boolean {
    if (this.failure) throw this.failure;
    return !this.readerGone;
  }
}

/**
 * Where a command writes output too large to hold (chunks of whole lines): standard output with backpressure, or,
 * for an in-process caller that gave no stream, its `out` a chunk at a time.
 */
export function chunkWriter(io: CliIo): (chunk: string) => Promise<boolean> {
  if (!io.stdout) {
    return async (chunk) => {
      io.out(chunk.replace(/\n$/, ''));
      return true;
    };
  }
  const out = new StreamOut(io.stdout);
  return (chunk) => out.write(chunk);
}

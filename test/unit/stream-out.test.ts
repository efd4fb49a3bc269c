import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StreamOut } from '../../src/cli/stream-out.js';

/** A sink that takes a chunk every `ms` milliseconds, with a 16-byte buffer: a slow pipe in miniature. */
function slowSink(ms: number): { sink: Writable; taken: string[]; peakBuffered: () => number } {
  const taken: string[] = [];
  let peak = 0;
  const sink = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _encoding, done) {
      taken.push(chunk.toString());
      setTimeout(done, ms);
    },
  });
  const write = sink.write.bind(sink);
  sink.write = ((chunk: string) => {
    const accepted = write(chunk);
    peak = Math.max(peak, sink.writableLength);
    return accepted;
  }) as typeof sink.write;
  return { sink, taken, peakBuffered: () => peak };
}

const failing = (code: string) =>
  new Writable({
    write(_chunk, _encoding, done) {
      done(Object.assign(new Error(`write ${code}`), { code }));
    },
  });

describe('StreamOut', () => {
  it('waits for drain, so no more than one chunk waits in the stream however slow the reader', async () => {
    const { sink, taken, peakBuffered } = slowSink(2);
    const out = new StreamOut(sink);
    for (let i = 0; i < 50; i++) expect(await out.write(`chunk ${String(i).padStart(2, '0')} of fifty\n`)).toBe(true);
    expect(peakBuffered()).toBeLessThanOrEqual(2 * 'chunk 00 of fifty\n'.length);
    await new Promise((resolve) => sink.end(resolve));
    expect(taken).toHaveLength(50);
    expect(taken[49]).toBe('chunk 49 of fifty\n');
  });

  it('answers false once the reader is gone (EPIPE), without throwing or crashing on the error event', async () => {
    const out = new StreamOut(failing('EPIPE'));
    const first = await out.write('x'.repeat(100_000));
    await new Promise((resolve) => setImmediate(resolve));
    expect([first, await out.write('more')]).toEqual([false, false]);
  });

  it('throws any other write error', async () => {
    const out = new StreamOut(failing('ENOSPC'));
    await expect(
      (async () => {
        await out.write('x'.repeat(100_000));
        await new Promise((resolve) => setImmediate(resolve));
        await out.write('more');
      })(),
    ).rejects.toThrow('write ENOSPC');
  });
});

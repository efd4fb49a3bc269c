import type { IncomingMessage } from 'node:http';

export interface BodyLimits {
  maxBytes: number;
  /** From the moment reading starts to the last byte: a deadline, not an idle timeout, so dribbling cannot extend it. */
  timeoutMs: number;
}

export type BodyRead = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'timeout' | 'aborted' };

/**
 * Reads a request body into memory, never more than `maxBytes` of it and never for longer than `timeoutMs`.
 * A declared Content-Length over the limit is refused before a byte is read; a body that streams past the limit
 * is refused as soon as it does, and the rest is left unread. On refusal the request is paused: the caller answers
 * and closes the connection.
 */
export function readBoundedBody(req: IncomingMessage, limits: BodyLimits): Promise<BodyRead> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) return Promise.resolve({ ok: false, reason: 'too_large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyRead) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      if (!result.ok) {
        req.pause();
        chunks.length = 0;
      }
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) settle({ ok: false, reason: 'too_large' });
      else chunks.push(chunk);
    };
    const onEnd = () => settle({ ok: true, body: Buffer.concat(chunks, size) });
    const onClose = () => settle({ ok: false, reason: 'aborted' });
    const timer = setTimeout(() => settle({ ok: false, reason: 'timeout' }), limits.timeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}

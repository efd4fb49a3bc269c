import { request, type ClientRequest, type OutgoingHttpHeaders } from 'node:http';

export interface RawOutcome {
  status?: number;
  body: string;
  /** The socket's error, or `no answer` when nothing came back within the wait. */
  error?: string;
  elapsedMs: number;
}

/**
 * A POST whose body the test writes itself, to declare one length and send another, send slowly, or stream far
 * more than any limit. The headers leave at once; `send` writes the body (and may stop once `answered()`).
 * Settles with the response, or the socket's error, or `no answer` after `waitMs`.
 */
export function rawPost(
  url: string,
  headers: OutgoingHttpHeaders,
  send: (req: ClientRequest, answered: () => boolean) => Promise<void> | void,
  waitMs = 10_000,
): Promise<RawOutcome> {
  const started = performance.now();
  const target = new URL(url);
  return new Promise((resolve) => {
    let settled = false;
    let status: number | undefined;
    let body = '';
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers, agent: false });
    const settle = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...(status !== undefined ? { status } : {}), body, ...(error ? { error } : {}), elapsedMs: performance.now() - started });
    };
    const timer = setTimeout(() => settle('no answer'), waitMs);
    req.on('response', (res) => {
      status = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => settle());
      res.on('error', () => settle());
    });
    req.on('error', (error) => settle(status === undefined ? error.message : undefined));
    req.flushHeaders();
    Promise.resolve(send(req, () => status !== undefined || settled)).catch(() => settle());
  });
}

/** Writes `bytes` of filler, as fast as the server reads, until done or answered; then ends the body unless told not to. */
export async function streamFiller(req: ClientRequest, bytes: number, answered: () => boolean, chunkBytes = 64 * 1024, end = true): Promise<void> {
  const chunk = Buffer.alloc(chunkBytes, 'a');
  for (let sent = 0; sent < bytes && !answered() && !req.destroyed; sent += chunk.length) {
    if (!req.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          req.off('drain', done);
          req.off('close', done);
          resolve();
        };
        req.on('drain', done);
        req.on('close', done);
      });
    }
  }
  if (end && !answered() && !req.destroyed) req.end();
}

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with the n-th request (1-based): pass it on, pass it on late, or answer itself. */
export type Fault =
  | { kind: 'forward' }
  | { kind: 'delay'; ms: number }
  | { kind: 'answer'; status: number; body: unknown }
  | { kind: 'rewrite'; edit: (body: Record<string, unknown>) => Record<string, unknown> };

export interface FaultyProxy {
  url: string;
  /** Requests received so far. */
  requests(): number;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of a real Prometheus that can slow down, fail or edit answers, to show how
 * the client behaves when the network or the server misbehaves.
 */
export async function startFaultyProxy(target: string, fault: (request: number) => Fault): Promise<FaultyProxy> {
  let count = 0;
  const pending = new Set<NodeJS.Timeout>();
  const forward = async (req: IncomingMessage, body: Buffer): Promise<{ status: number; text: string }> => {
    const response = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' },
      ...(req.method === 'POST' ? { body } : {}),
    });
    return { status: response.status, text: await response.text() };
  };
  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const what = fault(++count);
    if (what.kind === 'answer') {
      res.writeHead(what.status, { 'content-type': 'application/json' }).end(JSON.stringify(what.body));
      return;
    }
    if (what.kind === 'delay') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(timer);
          resolve();
        }, what.ms);
        pending.add(timer);
      });
      if (res.destroyed) return;
    }
    const answer = await forward(req, body);
    const text = what.kind === 'rewrite' ? JSON.stringify(what.edit(JSON.parse(answer.text) as Record<string, unknown>)) : answer.text;
    if (!res.destroyed) res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(502).end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    close: async () => {
      for (const timer of pending) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

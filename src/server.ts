import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Telemetry } from './metrics.js';

export interface Readiness {
  ready: boolean;
  /** Why not, e.g. `store not open`. */
  reasons: string[];
}

export interface ServerOptions {
  port: number;
  host?: string;
  metrics: Telemetry;
  readiness: () => Readiness;
  log: Logger;
  /** HTTP mode: Bolt's listener for POST /slack/events. */
  slack?: RequestListener | undefined;
  /** Called on each request before Bolt sees it (marks arrival for ack latency). */
  onSlackRequest?: (req: object) => void;
}

export interface RunningServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** The path of a request target, or undefined when it is not a URL at all (the parser lets `http://[` through). */
function pathOf(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

/**
 * How long a client may take to send its headers and its whole request, on every path. The Slack endpoint reads
 * its body under a tighter limit of its own; these bound the rest, and slow clients holding connections open.
 */
export const SERVER_TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 } as const;

/**
 * The one HTTP server on PORT: Slack's endpoint beside the probes and the scrape endpoint (DESIGN §3).
 * Requests to /slack/events are bounded, checked and logged by the Slack listener (see endpoint-guard.ts).
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { log, metrics } = options;
  const server = createServer(SERVER_TIMEOUTS, (req, res) => {
    const path = pathOf(req.url);
    if (path === undefined) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('malformed request target\n');
      return;
    }
    if (path === '/slack/events' && req.method === 'POST' && options.slack) {
      options.onSlackRequest?.(req);
      options.slack(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(path === '/slack/events' ? 404 : 405, { 'content-type': 'text/plain' }).end(path === '/slack/events' ? 'Socket Mode: no HTTP endpoint\n' : 'method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const readiness = options.readiness();
      res.writeHead(readiness.ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(readiness)}\n`);
      return;
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: unknown) => {
          log.error({ err: error }, 'could not render metrics');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

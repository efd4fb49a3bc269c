import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

export interface Readiness {
  ready: boolean;
  /** Why not, e.g. `store not open`. */
  reasons: string[];
}

export interface ServerOptions {
  port: number;
  host?: string;
  metrics: Metrics;
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

/**
 * The one HTTP server on PORT: Slack's endpoint beside the probes and the scrape endpoint (DESIGN §3).
 * A Slack request refused by the signature check (401) leaves a security log line and nothing else.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { log, metrics } = options;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/slack/events' && req.method === 'POST' && options.slack) {
      options.onSlackRequest?.(req);
      res.on('finish', () => {
        if (res.statusCode === 401) {
          log.warn(
            {
              security: true,
              remote: req.socket.remoteAddress,
              hasSignature: req.headers['x-slack-signature'] !== undefined,
              timestamp: req.headers['x-slack-request-timestamp'],
            },
            'refused a request to /slack/events: missing, wrong or stale Slack signature',
          );
        }
      });
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

import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ObjectStore } from '../kube-standin/store.js';
import type { SlackStandin } from '../slack-standin/web-api.js';
import { parseAct, perform, type Lifeguard } from './acts.js';
import { chartQueries, chartSeries, clusterView, type MetricTemplate, type ServiceTarget } from './panel.js';
import { Workspace, type Update } from './workspace.js';

/**
 * The workspace page's server, on its own loopback port beside the Slack stand-in: the page's static files, the
 * workspace as Slack shows it (GET /state, and every change as server-sent events on GET /events), the page's
 * actions sent to Lifeguard as Slack would send them (POST /act), and the side panel's cluster and chart data.
 */

export interface Person {
  id: string;
  name: string;
  role: string;
}

export interface PageOptions {
  slack: SlackStandin;
  lifeguard: Lifeguard;
  cluster: ObjectStore;
  target: ServiceTarget;
  /** Absent without Prometheus: the chart then says so. */
  prometheusUrl: string | undefined;
  metrics: Record<string, MetricTemplate>;
  people: Person[];
  names: { users: Record<string, string>; channels: Record<string, string> };
}

const STATIC = join(import.meta.dirname, 'static');
const FILES: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/blockkit.js': ['blockkit.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};
/** The page runs no code but its own: no inline script, nothing from elsewhere. */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'";
const BODY_LIMIT = 64 * 1024;

export class PageServer {
  private readonly workspace: Workspace;
  private readonly streams = new Set<ServerResponse>();
  private readonly server: Server;

  private constructor(private readonly options: PageOptions) {
    this.workspace = new Workspace(options.slack);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, { error: (error as Error).message });
        else res.end();
      });
    });
  }

  static async start(options: PageOptions, port = 0): Promise<PageServer> {
    const page = new PageServer(options);
    await new Promise<void>((resolve, reject) => {
      page.server.once('error', reject);
      page.server.listen(port, '127.0.0.1', resolve);
    });
    return page;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  async close(): Promise<void> {
    this.workspace.close();
    for (const stream of this.streams) stream.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const file = FILES[path];
    if (req.method === 'GET' && file) {
      res.writeHead(200, { 'content-type': file[1], 'content-security-policy': CSP, 'cache-control': 'no-store' });
      return void res.end(await readFile(join(STATIC, file[0])));
    }
    if (req.method === 'GET' && path === '/state') return send(res, 200, this.state());
    if (req.method === 'GET' && path === '/events') return this.events(req, res);
    if (req.method === 'GET' && path === '/cluster') return send(res, 200, clusterView(this.options.cluster, this.options.target));
    if (req.method === 'GET' && path === '/metrics-range') return this.chart(res);
    if (req.method === 'POST' && path === '/act') return this.act(req, res);
    send(res, 404, { error: `no ${req.method} ${path} here` });
  }

  private state() {
    const { people, names } = this.options;
    return { people, names, ...this.workspace.state() };
  }

  /** The state first, then each update, so a page that connects misses nothing in between. */
  private events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(`retry: 1000\nevent: state\ndata: ${JSON.stringify(this.state())}\n\n`);
    this.streams.add(res);
    const unsubscribe = this.workspace.subscribe((update: Update) => {
      // A DM channel appears with its first message: the page learns of it from the channel list sent along.
      const channels = update.kind === 'message' && update.message.channel.startsWith('D') ? { channels: this.workspace.channels() } : {};
      res.write(`data: ${JSON.stringify({ ...update, ...channels })}\n\n`);
    });
    // Proxies and browsers drop a silent stream: a comment now and then keeps it open.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
      this.streams.delete(res);
    });
  }

  private async act(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (error) {
      return send(res, 400, { error: (error as Error).message });
    }
    const act = parseAct(body);
    if (typeof act === 'string') return send(res, 400, { error: act });
    const channelName = (id: string) => this.options.names.channels[id] ?? id;
    send(res, 200, await perform(act, this.workspace, this.options.lifeguard, channelName));
  }

  private async chart(res: ServerResponse): Promise<void> {
    const { prometheusUrl, metrics, target } = this.options;
    if (!prometheusUrl) return send(res, 200, { available: false, why: 'Prometheus is not running in this demo' });
    try {
      send(res, 200, { available: true, series: await chartSeries(prometheusUrl, chartQueries(metrics, target.service)) });
    } catch (error) {
      send(res, 200, { available: false, why: `Prometheus did not answer: ${(error as Error).message}` });
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) return reject(new Error('body too large'));
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

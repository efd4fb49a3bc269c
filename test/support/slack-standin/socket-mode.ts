import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A local Socket Mode endpoint: `apps.connections.open` hands out its URL; on connection it says `hello`,
 * then delivers envelopes the test sends and resolves each with the app's acknowledgement.
 */
export class SocketModeStandin {
  private readonly wss: WebSocketServer;
  private readonly tickets = new Set<string>();
  private readonly pending = new Map<string, (ack: Record<string, unknown>) => void>();
  private connection: WebSocket | undefined;
  private connectedWaiters: (() => void)[] = [];

  constructor(server: Server) {
    this.wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/socket' || !this.tickets.delete(ticket)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  /** A one-use URL, as apps.connections.open returns. */
  url(port: number): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return `ws://127.0.0.1:${port}/socket?ticket=${ticket}`;
  }

  async connected(timeoutMs = 10_000): Promise<void> {
    if (this.connection) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no Socket Mode connection within ${timeoutMs} ms`)), timeoutMs);
      this.connectedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Sends one envelope (`slash_commands`, `interactive`, `events_api`) and resolves with the app's ack. */
  deliver(type: string, payload: Record<string, unknown>, timeoutMs = 10_000): Promise<{ ack: Record<string, unknown>; elapsedMs: number }> {
    const connection = this.connection;
    if (!connection) return Promise.reject(new Error('no Socket Mode connection'));
    const envelopeId = randomUUID();
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`envelope ${type} not acknowledged within ${timeoutMs} ms`)), timeoutMs);
      this.pending.set(envelopeId, (ack) => {
        clearTimeout(timer);
        resolve({ ack, elapsedMs: performance.now() - started });
      });
      connection.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api' }));
    });
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket): void {
    this.connection = ws;
    ws.on('message', (data) => {
      let message: { envelope_id?: string; payload?: Record<string, unknown> };
      try {
        message = JSON.parse(String(data)) as typeof message;
      } catch {
        return;
      }
      const resolve = message.envelope_id ? this.pending.get(message.envelope_id) : undefined;
      if (resolve && message.envelope_id) {
        this.pending.delete(message.envelope_id);
        resolve(message.payload ?? {});
      }
    });
    ws.on('close', () => {
      if (this.connection === ws) this.connection = undefined;
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0LIFEGUARD' }, debug_info: { host: 'standin' } }));
    for (const wake of this.connectedWaiters.splice(0)) wake();
  }
}

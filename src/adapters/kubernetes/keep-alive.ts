import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { Observable, type ObservableMiddleware } from '@kubernetes/client-node';

type AnyAgent = HttpAgent | HttpsAgent;

/** What sets a connection apart: a rotated client certificate or CA needs new connections, anything else may share them. */
const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'rejectUnauthorized'] as const;

function tlsIdentity(options: AgentOptions): string {
  return JSON.stringify(TLS_OPTIONS.map((name) => {
    const value = options[name];
    return Buffer.isBuffer(value) ? value.toString('base64') : (value ?? null);
  }));
}

/**
 * client-node makes a new Agent, so a new connection and TLS handshake, for every request. This middleware swaps
 * it for a keep-alive agent of the cluster with the same TLS options (client-node re-reads certificate files and
 * credential plugins per request, so a rotated certificate gets an agent of its own). Proxy agents are left alone:
 * they manage their own connections.
 */
export function keepAliveMiddleware(): ObservableMiddleware {
  const pooled = new Map<string, AnyAgent>();
  const pool = (fresh: AnyAgent): AnyAgent => {
    const Kind = fresh.constructor === HttpsAgent ? HttpsAgent : fresh.constructor === HttpAgent ? HttpAgent : undefined;
    if (!Kind) return fresh;
    const options = (fresh as AnyAgent & { options: AgentOptions }).options;
    const identity = `${Kind.name}:${tlsIdentity(options)}`;
    let agent = pooled.get(identity);
    if (!agent) {
      // Only the newest identity is kept: the requests in flight on an older one finish, and the API server closes its
      // idle connections.
      pooled.clear();
      agent = new Kind({ ...options, keepAlive: true, scheduling: 'lifo' });
      pooled.set(identity, agent);
    }
    return agent;
  };
  return {
    pre: (request) => {
      const fresh = request.getAgent();
      if (fresh) request.setAgent(pool(fresh));
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
}

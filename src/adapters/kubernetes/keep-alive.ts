import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Observable, type ObservableMiddleware } from '@kubernetes/client-node';

type AnyAgent = HttpAgent | HttpsAgent;

/**
 * client-node makes a new Agent, so a new connection and TLS handshake, for every request. This middleware swaps
 * it for one keep-alive agent per cluster, built from the first request's agent options (CA, client certificate),
 * which stay the same for a cluster. Proxy agents are left alone: they manage their own connections.
 */
export function keepAliveMiddleware(): ObservableMiddleware {
  let pooled: AnyAgent | undefined;
  const pool = (fresh: AnyAgent): AnyAgent => {
    if (pooled) return pooled;
    const options = { ...(fresh as AnyAgent & { options: object }).options, keepAlive: true, scheduling: 'lifo' as const };
    if (fresh.constructor === HttpsAgent) pooled = new HttpsAgent(options);
    else if (fresh.constructor === HttpAgent) pooled = new HttpAgent(options);
    else return fresh;
    return pooled;
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

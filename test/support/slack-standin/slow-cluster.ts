import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeploymentSnapshot, DeploymentStatus } from '../../../src/adapters/slack/deployment-status.js';

/**
 * A deliberately slow cluster boundary: a local HTTP server that serves an apps/v1 Deployment only after
 * `delayMs`, and the DeploymentStatus port reading it over HTTP. It stands in for the Kubernetes adapter,
 * which is built separately, so that the Slack handlers really wait on a slow network dependency.
 */
export class SlowCluster implements DeploymentStatus {
  private constructor(
    private readonly server: Server,
    readonly requests: string[],
  ) {}

  static async start(delayMs: number): Promise<SlowCluster> {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const match = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/.exec(req.url ?? '');
      setTimeout(() => {
        if (!match) return void res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: match[2], namespace: match[1], annotations: { 'deployment.kubernetes.io/revision': '41' } },
            spec: { template: { spec: { containers: [{ name: 'app', image: `registry.local/${match[2]}:1.4.2` }] } } },
          }),
        );
      }, delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new SlowCluster(server, requests);
  }

  async describe(service: string, environment: string): Promise<DeploymentSnapshot> {
    const namespace = environment === 'production' ? 'shop' : 'shop-staging';
    const port = (this.server.address() as AddressInfo).port;
    const response = await fetch(`http://127.0.0.1:${port}/apis/apps/v1/namespaces/${namespace}/deployments/${service}`);
    if (!response.ok) throw new Error(`deployment ${namespace}/${service}: HTTP ${response.status}`);
    const deployment = (await response.json()) as {
      metadata: { annotations: Record<string, string> };
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    const image = deployment.spec.template.spec.containers[0]!.image;
    return {
      image,
      version: image.slice(image.lastIndexOf(':') + 1),
      revision: Number(deployment.metadata.annotations['deployment.kubernetes.io/revision']),
      history: [{ revision: 40, image: image.replace(/:[^:]+$/, ':1.4.1') }],
      canaryWeight: 0,
    };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

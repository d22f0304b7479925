import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * A small metadata service for tests: OpenStack's (`/openstack/latest/meta_data.json`,
 * `/openstack/latest/user_data`) or EC2's IMDSv2 (PUT `/latest/api/token`, then GETs that carry
 * `X-aws-ec2-metadata-token`; a GET without a valid token is 401, as IMDSv2-only instances answer).
 */
export class FakeMetadataServer {
  readonly requests: string[] = [];
  private server?: Server;
  private readonly tokens = new Set<string>();

  constructor(
    private readonly kind: 'openstack' | 'ec2',
    private readonly userData: string | null,
    private readonly instanceId = 'i-0123456789abcdef0',
  ) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(`${req.method} ${req.url}`);
    const send = (status: number, body: string, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (this.kind === 'openstack') {
      if (req.method === 'GET' && req.url === '/openstack/latest/meta_data.json')
        return send(200, JSON.stringify({ uuid: this.instanceId, name: 'vm', meta: {} }), 'application/json');
      if (req.method === 'GET' && req.url === '/openstack/latest/user_data')
        return this.userData === null ? send(404, 'no user data') : send(200, this.userData);
      return send(404, 'not found');
    }
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return send(400, 'ttl required');
      const token = `tok-${this.tokens.size + 1}-${Math.random().toString(36).slice(2)}`;
      this.tokens.add(token);
      return send(200, token);
    }
    if (req.method !== 'GET' || !req.url?.startsWith('/latest/')) return send(404, 'not found');
    if (!this.tokens.has(String(req.headers['x-aws-ec2-metadata-token']))) return send(401, 'unauthorized');
    if (req.url === '/latest/user-data')
      return this.userData === null ? send(404, 'no user data') : send(200, this.userData);
    if (req.url === '/latest/meta-data/instance-id') return send(200, this.instanceId);
    return send(404, 'not found');
  }
}

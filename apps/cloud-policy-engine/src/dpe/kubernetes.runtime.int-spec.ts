import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Pod } from 'kubernetes-models/v1/Pod';
import { silentLogger } from '@nephele/bus';
import { KubernetesRuntime, podName } from './kubernetes.runtime';

/**
 * A local HTTP server speaking the parts of the Kubernetes API the runtime uses (core/v1 pods:
 * create, delete, list by label selector), with the documented response shapes (Pod, Status,
 * PodList). Every pod the runtime sends is validated against the Kubernetes schema.
 */
class FakeKubeApi {
  readonly pods = new Map<string, Record<string, any>>();
  readonly requests: { method: string; path: string; auth?: string }[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private async body(req: IncomingMessage): Promise<any> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    this.send(res, code, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: code < 300 ? 'Success' : 'Failure',
      message,
      reason,
      code,
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url!, this.url);
    this.requests.push({ method: req.method!, path: u.pathname, auth: req.headers.authorization });
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/.exec(u.pathname);
    if (!m) return this.status(res, 404, 'NotFound', `the server could not find the requested resource`);
    const [, ns, name] = m;
    if (req.method === 'POST' && !name) {
      const pod = await this.body(req);
      try {
        new Pod(pod).validate();
      } catch (e) {
        return this.status(res, 422, 'Invalid', `Pod is invalid: ${(e as Error).message}`);
      }
      if (this.pods.has(pod.metadata.name))
        return this.status(res, 409, 'AlreadyExists', `pods "${pod.metadata.name}" already exists`);
      const stored = {
        ...pod,
        metadata: {
          ...pod.metadata,
          namespace: ns,
          uid: `uid-${this.pods.size}`,
          resourceVersion: '1',
          creationTimestamp: new Date().toISOString(),
        },
        status: { phase: 'Pending' },
      };
      this.pods.set(pod.metadata.name, stored);
      return this.send(res, 201, stored);
    }
    if (req.method === 'DELETE' && name) {
      const pod = this.pods.get(name);
      if (!pod) return this.status(res, 404, 'NotFound', `pods "${name}" not found`);
      this.pods.delete(name);
      return this.send(res, 200, pod);
    }
    if (req.method === 'GET' && !name) {
      const selector = u.searchParams.get('labelSelector') ?? '';
      const [k, v] = selector.split('=');
      const items = [...this.pods.values()].filter((p) => !k || p.metadata.labels?.[k] === v);
      return this.send(res, 200, {
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '1' },
        items,
      });
    }
    return this.status(res, 405, 'MethodNotAllowed', 'method not allowed');
  }
}

describe(KubernetesRuntime.name, () => {
  const api = new FakeKubeApi();
  let sut: KubernetesRuntime;

  beforeAll(async () => {
    await api.start();
    sut = new KubernetesRuntime({
      namespace: 'nephele',
      image: 'registry.example/nephele/dpe-worker:0.1.0',
      env: {
        AMQP_URL: 'amqp://rabbit:5672',
        AMQP10_URL: 'amqp://rabbit:5672',
        LOG_LEVEL: 'info',
        UNSET: undefined,
      },
      apiUrl: api.url,
      token: 'kube-test-token',
      log: silentLogger,
    });
  });
  afterAll(() => api.stop());

  it('creates one schema-valid pod per DPE, named and labelled for its deployable and epoch', async () => {
    const where = await sut.start('0b6a1c8e-24f2-4c33-a6a5-61f3b7d0e901', 3);
    expect(where.workerId).toBe(podName('0b6a1c8e-24f2-4c33-a6a5-61f3b7d0e901', 3));
    const pod = api.pods.get(where.workerId)!;
    expect(pod.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'nephele-dpe',
      'nephele.io/deployable': '0b6a1c8e-24f2-4c33-a6a5-61f3b7d0e901',
      'nephele.io/epoch': '3',
    });
    const env = Object.fromEntries(
      pod.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      DPE_ASSIGNMENTS: '0b6a1c8e-24f2-4c33-a6a5-61f3b7d0e901:3',
      DPE_WORKER_ID: where.workerId,
      AMQP_URL: 'amqp://rabbit:5672',
    });
    expect(env).not.toHaveProperty('UNSET');
    expect(pod.spec).toMatchObject({ restartPolicy: 'Never', serviceAccountName: 'nephele-dpe' });
    expect(api.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/api/v1/namespaces/nephele/pods',
      auth: 'Bearer kube-test-token',
    });
  });

  it('lists its pods by label and deletes them; deleting a missing pod is not an error', async () => {
    await sut.start('9d2f6b0a-5c4e-4f8e-8a1b-2e7c9d3f4a52', 1);
    const listed = await sut.list();
    expect(listed.map((p) => p.epoch).sort()).toEqual([1, 3]);
    for (const p of listed) await sut.stop(p.deployableId, p.name);
    expect(api.pods.size).toBe(0);
    await expect(sut.stop('x', 'dpe-gone-1')).resolves.toBeUndefined();
  });

  it('surfaces API refusals (a pod that already exists)', async () => {
    await sut.start('11111111-2222-3333-4444-555555555555', 1);
    await expect(sut.start('11111111-2222-3333-4444-555555555555', 1)).rejects.toThrow();
  });

  it('has the pod read the broker URLs from a Secret, so no credential sits in the pod spec', async () => {
    const secretive = new KubernetesRuntime({
      namespace: 'nephele',
      image: 'registry.example/nephele/dpe-worker:0.1.0',
      env: {
        AMQP_URL: 'amqp://user:s3cret@rabbit:5672',
        AMQP10_URL: 'amqp://user:s3cret@rabbit:5672',
        LOG_LEVEL: 'info',
      },
      fromSecret: { name: 'nephele-connection', keys: ['AMQP_URL', 'AMQP10_URL'] },
      apiUrl: api.url,
      token: 'kube-test-token',
      log: silentLogger,
    });
    const where = await secretive.start('2f0c7a4e-8b1d-4e5f-9a3c-6d7e8f9a0b1c', 1);
    const pod = api.pods.get(where.workerId)!;
    expect(JSON.stringify(pod)).not.toContain('s3cret');
    const env = pod.spec.containers[0].env as { name: string; value?: string; valueFrom?: unknown }[];
    expect(env.find((e) => e.name === 'AMQP_URL')).toEqual({
      name: 'AMQP_URL',
      valueFrom: { secretKeyRef: { name: 'nephele-connection', key: 'AMQP_URL' } },
    });
    expect(env.find((e) => e.name === 'AMQP10_URL')?.valueFrom).toEqual({
      secretKeyRef: { name: 'nephele-connection', key: 'AMQP10_URL' },
    });
    expect(env.find((e) => e.name === 'LOG_LEVEL')).toEqual({ name: 'LOG_LEVEL', value: 'info' });
  });
});

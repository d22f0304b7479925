import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { LoggerLike } from '@nephele/bus';
import { DpeRuntime } from './runtime.types';

export interface KubernetesRuntimeOptions {
  namespace: string;
  image: string;
  /** Env of the worker container (AMQP_URL, AMQP10_URL, …). */
  env: Record<string, string | undefined>;
  /**
   * Env names the pod reads from a Secret (`secretKeyRef`, key = name) instead of carrying the
   * value: broker URLs hold credentials, and a pod spec is readable by anyone who may list pods.
   */
  fromSecret?: { name: string; keys: string[] };
  /** Outside a cluster: the API server and a bearer token (otherwise in-cluster config). */
  apiUrl?: string;
  token?: string;
  log: LoggerLike;
}

/** A DNS-1123 pod name for a deployable's DPE under an epoch. */
export function podName(deployableId: string, epoch: number): string {
  return `dpe-${deployableId
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '')
    .slice(0, 40)}-${epoch}`;
}

/**
 * One pod per DPE through the Kubernetes API (@kubernetes/client-node). The CPE's ServiceAccount
 * needs create/delete/get/list on pods in its namespace (deploy/ has the RBAC).
 */
export class KubernetesRuntime implements DpeRuntime {
  readonly kind = 'kubernetes' as const;
  private readonly api: CoreV1Api;

  constructor(private readonly o: KubernetesRuntimeOptions) {
    const kc = new KubeConfig();
    if (o.apiUrl) {
      kc.loadFromOptions({
        clusters: [{ name: 'nephele', server: o.apiUrl, skipTLSVerify: true }],
        users: [{ name: 'nephele', token: o.token }],
        contexts: [{ name: 'nephele', cluster: 'nephele', user: 'nephele', namespace: o.namespace }],
        currentContext: 'nephele',
      });
    } else {
      kc.loadFromCluster();
    }
    this.api = kc.makeApiClient(CoreV1Api);
  }

  async start(deployableId: string, epoch: number): Promise<{ workerId: string }> {
    const name = podName(deployableId, epoch);
    const secret = this.o.fromSecret;
    const env = Object.entries({
      ...this.o.env,
      DPE_WORKER_ID: name,
      DPE_ASSIGNMENTS: `${deployableId}:${epoch}`,
      PORT: '8080',
    })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) =>
        secret?.keys.includes(k)
          ? { name: k, valueFrom: { secretKeyRef: { name: secret.name, key: k } } }
          : { name: k, value: v! },
      );
    await this.api.createNamespacedPod({
      namespace: this.o.namespace,
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          labels: {
            'app.kubernetes.io/name': 'nephele-dpe',
            'nephele.io/deployable': deployableId,
            'nephele.io/epoch': String(epoch),
          },
        },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: 'nephele-dpe',
          containers: [
            {
              name: 'dpe',
              image: this.o.image,
              args: ['node', 'dist/apps/dpe-worker/main.js'],
              env,
              ports: [{ containerPort: 8080, name: 'health' }],
              livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
              resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '256Mi' } },
            },
          ],
        },
      },
    });
    return { workerId: name };
  }

  async stop(_deployableId: string, workerId: string | null): Promise<void> {
    if (!workerId) return;
    try {
      await this.api.deleteNamespacedPod({
        name: workerId,
        namespace: this.o.namespace,
        gracePeriodSeconds: 10,
      });
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code !== 404) throw e;
    }
  }

  /** DPE pods of this namespace (used to find and remove leftovers). */
  async list(): Promise<{ name: string; deployableId: string; epoch: number; phase?: string }[]> {
    const r = await this.api.listNamespacedPod({
      namespace: this.o.namespace,
      labelSelector: 'app.kubernetes.io/name=nephele-dpe',
    });
    return r.items.map((p) => ({
      name: p.metadata?.name ?? '',
      deployableId: p.metadata?.labels?.['nephele.io/deployable'] ?? '',
      epoch: Number(p.metadata?.labels?.['nephele.io/epoch'] ?? 0),
      phase: p.status?.phase,
    }));
  }

  async close(): Promise<void> {}
}

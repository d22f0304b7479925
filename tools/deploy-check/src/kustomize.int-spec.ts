import path from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import { COMMON_SECRETS, NEPHELE_SERVICES, OVERLAYS, amqpUrlKey } from './deploy.constants';
import { KubeObject, unknownFields, validateKubeObject } from './k8s-schema.util';
import { WORKSPACE_ROOT, renderKustomize } from './render.util';

const CPE = 'cloud-policy-engine';

describe.each(OVERLAYS)('deploy/overlays/$name (kubectl kustomize)', (overlay) => {
  let objects: KubeObject[];
  const all = <T>(kind: string): T[] => objects.filter((o) => o.kind === kind) as unknown as T[];
  const one = <T>(kind: string, name: string): T => {
    const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
    if (found.length !== 1) throw new Error(`expected one ${kind}/${name}, found ${found.length}`);
    return found[0] as unknown as T;
  };
  const container = (d: IDeployment): IContainer => {
    const c = d.spec!.template.spec!.containers;
    expect(c).toHaveLength(1);
    return c[0];
  };
  /** A container port given by number or name, as a number. */
  const containerPort = (c: IContainer, port: number | string | undefined): number | undefined =>
    typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort;
  const envOf = (c: IContainer, name: string) => c.env?.find((e) => e.name === name);

  beforeAll(async () => {
    objects = await renderKustomize(path.join(WORKSPACE_ROOT, 'deploy/overlays', overlay.name));
  });

  it('renders only objects that validate against the Kubernetes schemas', async () => {
    expect(objects.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const o of objects) {
      await validateKubeObject(o).catch((e: Error) => problems.push(e.message));
      const unknown = await unknownFields(o);
      if (unknown.length) problems.push(`${o.kind}/${o.metadata.name}: unknown fields ${unknown.join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  it(`puts everything in namespace ${overlay.namespace}, with pinned image tags`, () => {
    for (const o of objects) {
      if (o.kind === 'Namespace') expect(o.metadata.name).toBe(overlay.namespace);
      else
        expect(`${o.kind}/${o.metadata.name} in ${o.metadata.namespace}`).toBe(
          `${o.kind}/${o.metadata.name} in ${overlay.namespace}`,
        );
    }
    for (const d of all<IDeployment>('Deployment')) {
      expect(container(d).image).toMatch(/^[^:]+\/[a-z-]+:(?!latest$)[\w.-]+$/);
    }
  });

  it.each(NEPHELE_SERVICES)('runs $app: Deployment, probes, Service, PodDisruptionBudget', (svc) => {
    const d = one<IDeployment>('Deployment', svc.app);
    const c = container(d);
    const podLabels = d.spec!.template.metadata!.labels!;
    expect(d.spec!.selector.matchLabels).toEqual(
      expect.objectContaining({ 'app.kubernetes.io/name': svc.app }),
    );
    expect(podLabels).toEqual(expect.objectContaining(d.spec!.selector.matchLabels));
    expect(c.image).toMatch(new RegExp(`/${svc.app}:`));
    expect(d.spec!.replicas).toBeGreaterThanOrEqual(overlay.minReplicas);
    expect(d.spec!.replicas).toBeLessThanOrEqual(overlay.maxReplicas);

    // the app listens on PORT; probes and Service reach that port
    expect(envOf(c, 'PORT')?.value).toBe(String(svc.port));
    expect(c.ports?.map((p) => p.containerPort)).toEqual([svc.port]);
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(containerPort(c, c.livenessProbe?.httpGet?.port)).toBe(svc.port);
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(containerPort(c, c.readinessProbe?.httpGet?.port)).toBe(svc.port);
    if (c.startupProbe) {
      expect(c.startupProbe.httpGet?.path).toBe('/healthz');
      expect(containerPort(c, c.startupProbe.httpGet?.port)).toBe(svc.port);
    }
    expect(c.resources?.requests?.cpu).toBeDefined();
    expect(c.resources?.requests?.memory).toBeDefined();
    expect(c.resources?.limits?.memory).toBeDefined();

    const s = one<IService>('Service', svc.app);
    expect(podLabels).toEqual(expect.objectContaining(s.spec!.selector));
    expect(s.spec!.ports).toHaveLength(1);
    expect(s.spec!.ports![0].port).toBe(svc.port);
    expect(containerPort(c, s.spec!.ports![0].targetPort)).toBe(svc.port);

    const pdbs = all<IPodDisruptionBudget>('PodDisruptionBudget').filter((p) =>
      Object.entries(p.spec!.selector!.matchLabels ?? {}).every(([k, v]) => podLabels[k] === v),
    );
    expect(pdbs).toHaveLength(1);
    // never minAvailable = replicas: that would block every node drain
    expect(pdbs[0].spec!.maxUnavailable ?? 0).not.toBe(0);
  });

  it.each(NEPHELE_SERVICES)('gives $app its connection settings from one Secret', (svc) => {
    const c = container(one<IDeployment>('Deployment', svc.app));
    for (const key of [...COMMON_SECRETS, ...svc.secrets]) {
      const ref = envOf(c, key)?.valueFrom?.secretKeyRef;
      expect({ key, ref: ref && { key: ref.key, optional: ref.optional ?? false } }).toEqual({
        key,
        ref: { key, optional: false },
      });
    }
    const secretNames = new Set(
      all<IDeployment>('Deployment').flatMap((d) =>
        container(d).env!.flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : [])),
      ),
    );
    expect(secretNames.size).toBe(1);
    const [name] = [...secretNames];
    const generated = all<ISecret>('Secret').find((s) => s.metadata!.name === name);
    if (overlay.name === 'dev') {
      // generated from connection.env: it must hold every key the services require
      expect(generated).toBeDefined();
      for (const key of [...COMMON_SECRETS, ...svc.secrets])
        expect(Object.keys(generated!.data ?? {})).toContain(key);
    } else {
      // created by the operator in the namespace before `kubectl apply -k`
      expect(generated).toBeUndefined();
      expect(name).toBe('nephele-connection');
    }
  });

  it.each(NEPHELE_SERVICES)('connects $app to RabbitMQ as its own user', (svc) => {
    const c = container(one<IDeployment>('Deployment', svc.app));
    // kustomize suffixes generated Secrets with a content hash (dev): compare the base name
    const ref = (name: string) => {
      const r = envOf(c, name)?.valueFrom?.secretKeyRef;
      return r && `${(r.name ?? '').replace(/^(nephele-connection)-[a-z0-9]{10}$/, '$1')}/${r.key}`;
    };
    const connectionName = envOf(c, 'AMQP_URL')?.valueFrom?.secretKeyRef?.name;
    // the env names the apps read stay AMQP_URL / AMQP10_URL; the Secret key is the service's own
    expect(ref('AMQP_URL')).toBe(`nephele-connection/${amqpUrlKey(svc.app)}`);
    if (svc.app === CPE) {
      expect(ref('AMQP10_URL')).toBe(`nephele-connection/${amqpUrlKey(svc.app)}`);
      // agents get the agent user, DPE pods the dpe-worker user (their own Secret)
      expect(ref('NEPHELE_AGENT_EDGE_URL')).toBe('nephele-connection/AMQP_URL_AGENT');
      expect(envOf(c, 'KUBE_DPE_SECRET')?.value).toBe('nephele-dpe-connection');
    } else {
      expect(envOf(c, 'AMQP10_URL')).toBeUndefined();
    }
    if (overlay.name === 'dev') {
      const secret = (name: string) => {
        const s = all<ISecret>('Secret').find((x) => x.metadata!.name === name);
        expect({ name, found: !!s }).toEqual({ name, found: true });
        return (key: string) => Buffer.from(s!.data![key] ?? '', 'base64').toString('utf8');
      };
      const user = (url: string) => decodeURIComponent(new URL(url).username);
      const conn = secret(connectionName!);
      expect(user(conn(amqpUrlKey(svc.app)))).toBe(svc.app);
      expect(user(conn('AMQP_URL_AGENT'))).toBe('nephele-agent');
      const dpe = secret('nephele-dpe-connection');
      expect(user(dpe('AMQP_URL'))).toBe('dpe-worker');
      expect(user(dpe('AMQP10_URL'))).toBe('dpe-worker');
    }
  });

  it('routes every REST prefix through the Ingress to its Service and port', () => {
    const ingresses = all<IIngress>('Ingress');
    expect(ingresses).toHaveLength(1);
    const routes = new Map<string, string>();
    for (const rule of ingresses[0].spec!.rules!) {
      for (const p of rule.http!.paths) {
        expect(p.pathType).toBe('Prefix');
        const backend = p.backend.service!;
        const service = one<IService>('Service', backend.name);
        const port = service.spec!.ports!.find((sp) =>
          backend.port!.name !== undefined
            ? sp.name === backend.port!.name
            : sp.port === backend.port!.number,
        );
        expect({ path: p.path, port: port?.port }).toEqual({ path: p.path, port: expect.any(Number) });
        routes.set(p.path!, `${backend.name}:${port!.port}`);
      }
    }
    const expected = new Map(
      NEPHELE_SERVICES.flatMap((s) => s.prefixes.map((p) => [p, `${s.app}:${s.port}`])),
    );
    expect(Object.fromEntries(routes)).toEqual(Object.fromEntries(expected));
  });

  it('lets the CPE run DPE workers as pods in its namespace', () => {
    const d = one<IDeployment>('Deployment', CPE);
    const pod = d.spec!.template.spec!;
    const c = container(d);
    expect(envOf(c, 'CPE_RUNTIME')?.value).toBe('kubernetes');
    expect(envOf(c, 'KUBE_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
    // DPE pods run the dpe-worker image of the same release as the CPE
    const tag = c.image!.split(':')[1];
    expect(envOf(c, 'DPE_IMAGE')?.value).toMatch(new RegExp(`/dpe-worker:${tag.replace(/\./g, '\\.')}$`));

    const sa = pod.serviceAccountName!;
    expect(one<KubeObject>('ServiceAccount', sa)).toBeDefined();
    expect(pod.automountServiceAccountToken).not.toBe(false);
    // pods get serviceAccountName nephele-dpe (kubernetes.runtime.ts)
    expect(one<KubeObject>('ServiceAccount', 'nephele-dpe')).toBeDefined();

    const verbs = new Set<string>();
    for (const rb of all<IRoleBinding>('RoleBinding')) {
      const bound = rb.subjects?.some(
        (s) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === overlay.namespace,
      );
      if (!bound || rb.roleRef.kind !== 'Role') continue;
      const role = one<IRole>('Role', rb.roleRef.name);
      for (const r of role.rules ?? []) {
        if (r.apiGroups?.includes('') && (r.resources?.includes('pods') || r.resources?.includes('*'))) {
          r.verbs.forEach((v) => verbs.add(v));
        }
      }
    }
    for (const v of ['create', 'delete', 'get', 'list', 'watch']) expect([...verbs]).toContain(v);

    // the other services never talk to the Kubernetes API
    for (const other of all<IDeployment>('Deployment').filter((x) => x.metadata!.name !== CPE)) {
      expect(other.spec!.template.spec!.automountServiceAccountToken).toBe(false);
    }
  });
});

import { DeployableDocument, ServiceDoc, ServiceSpec } from '@nephele/contracts';
import { DeployableSpec } from '@nephele/policy';

/** The policy engine's view of a deployable document (assemblies are nodes, services primitives). */
export function toPolicySpec(doc: DeployableDocument): DeployableSpec {
  return {
    name: doc.name,
    assemblies: doc.assemblies.map((a) => ({
      name: a.name,
      ...(a.escalation ? { escalation: a.escalation } : {}),
    })),
    services: doc.assemblies.flatMap((a) =>
      a.services.map((s) => ({
        id: `${a.name}/${s.name}`,
        assembly: a.name,
        ...(s.placement ? { allowedAssemblies: s.placement.assemblies } : {}),
        ...(s.escalation ? { escalation: s.escalation } : {}),
        ...(s.priority !== undefined ? { priority: s.priority } : {}),
        ...(s.enabled !== undefined ? { enabled: s.enabled } : {}),
      })),
    ),
    constraints: doc.constraints.map((c) => {
      switch (c.kind) {
        case 'order':
          return { kind: 'order' as const, id: c.id, first: c.first, then: c.then };
        case 'colocation':
          return { kind: 'colocation' as const, id: c.id, service: c.service, with: c.with, score: c.score };
        case 'location':
          return {
            kind: 'location' as const,
            id: c.id,
            service: c.service,
            assembly: c.assembly,
            score: c.score,
          };
      }
    }),
  };
}

/** Looks up a service document by its `<assembly>/<service>` id. */
export function serviceDoc(doc: DeployableDocument, id: string): ServiceDoc | undefined {
  const [a, s] = id.split('/');
  return doc.assemblies.find((x) => x.name === a)?.services.find((x) => x.name === s);
}

/**
 * What the agent needs to run a service, with `{ref: {assembly, parameter}}` parameters resolved
 * (`address` → the referenced assembly's first address, `name` → its instance name). Returns the
 * names of unresolved references instead when a referenced assembly is not up yet.
 */
export function toAgentService(
  svc: ServiceDoc,
  resolve: (assembly: string, parameter: string) => string | undefined,
): { spec: ServiceSpec } | { unresolved: string[] } {
  const parameters: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const [k, v] of Object.entries(svc.parameters)) {
    if (typeof v === 'string') parameters[k] = v;
    else {
      const r = resolve(v.ref.assembly, v.ref.parameter);
      if (r === undefined) unresolved.push(`${k} → ${v.ref.assembly}.${v.ref.parameter}`);
      else parameters[k] = r;
    }
  }
  if (unresolved.length) return { unresolved };
  const spec: ServiceSpec = {
    name: svc.name,
    class: svc.class,
    parameters,
    monitor: {
      intervalMs: svc.monitor.intervalMs,
      timeoutMs: svc.monitor.timeoutMs,
      ...(svc.monitor.tcp ? { tcp: { port: svc.monitor.tcp.port, host: svc.monitor.tcp.host } } : {}),
      ...(svc.monitor.http
        ? { http: { url: `http://127.0.0.1:${svc.monitor.http.port}${svc.monitor.http.path}` } }
        : {}),
    },
  };
  if (svc.class === 'process' && svc.command?.length) {
    spec.command = svc.command[0]!;
    spec.args = svc.command.slice(1);
  }
  if (svc.provider) spec.provider = svc.provider;
  if (svc.type) spec.type = svc.type;
  return { spec };
}

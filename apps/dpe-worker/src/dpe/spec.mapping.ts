import { DeployableDocument, ServiceDoc, ServiceSpec, toAgentServiceSpec } from '@nephele/contracts';
import { DeployableSpec } from '@nephele/policy';
import { DEFAULT_ASSEMBLY_ESCALATION, DEFAULT_SERVICE_ESCALATION } from './recovery-budget';

/**
 * The policy engine's view of a deployable document (assemblies are nodes, services primitives).
 * Every service and assembly gets an escalation (the document's, else the deployable's default):
 * no rung of the ladder is unbounded (Note [Recovery budgets]). A clone's instances arrive as plain
 * services, each declared under its assembly without placement, so pinned there (see Note [Clones as
 * pinned primitives] in the CPE's deployable-parser.ts).
 */
export function toPolicySpec(doc: DeployableDocument): DeployableSpec {
  const serviceEscalation = doc.recovery?.escalation ?? DEFAULT_SERVICE_ESCALATION;
  const assemblyEscalation = doc.recovery?.assemblyEscalation ?? DEFAULT_ASSEMBLY_ESCALATION;
  return {
    name: doc.name,
    assemblies: doc.assemblies.map((a) => ({
      name: a.name,
      escalation: a.escalation ?? assemblyEscalation,
    })),
    services: doc.assemblies.flatMap((a) =>
      a.services.map((s) => ({
        id: `${a.name}/${s.name}`,
        assembly: a.name,
        ...(s.placement ? { allowedAssemblies: s.placement.assemblies } : {}),
        escalation: s.escalation ?? serviceEscalation,
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
    // Pacemaker groups (Note [Groups] in @nephele/policy): one assembly, start in order, stop in reverse.
    ...(doc.groups?.length
      ? { groups: doc.groups.map((g) => ({ name: g.name, services: [...g.services] })) }
      : {}),
  };
}

/** Looks up a service document by its `<assembly>/<service>` id. */
export function serviceDoc(doc: DeployableDocument, id: string): ServiceDoc | undefined {
  const [a, s] = id.split('/');
  return doc.assemblies.find((x) => x.name === a)?.services.find((x) => x.name === s);
}

/** See `toAgentServiceSpec` in @nephele/contracts (the CPE's destroy sequence uses it too). */
export function toAgentService(
  svc: ServiceDoc,
  resolve: (assembly: string, parameter: string) => string | undefined,
): { spec: ServiceSpec } | { unresolved: string[] } {
  return toAgentServiceSpec(svc, resolve);
}

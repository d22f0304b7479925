import { parseDuration } from '@nephele/util';
import { DeployableConstraint, DeployableSpec, EscalationPolicy } from './deployable.types';

/** Escalation as written in a manifest: `{ failures: 3, period: 60s }` (a bare number is seconds). */
export interface ManifestEscalation {
  failures: number;
  period: string | number;
}

/** The policy-relevant part of a Nephele deployable manifest (YAML or JSON, already parsed). */
export interface DeployableManifest {
  name: string;
  assemblies: ReadonlyArray<{
    name: string;
    escalation?: ManifestEscalation;
    services?: ReadonlyArray<{
      name: string;
      escalation?: ManifestEscalation;
      placement?: { assemblies?: readonly string[] };
      priority?: number;
      enabled?: boolean;
    }>;
  }>;
  constraints?: ReadonlyArray<{
    order?: { first: string; then: string };
    colocation?: { service: string; with: string; score: number | string };
    location?: { service: string; assembly: string; score: number | string };
  }>;
  /** Service groups: `{ name, services: [<assembly>/<service>, …] }`, started in that order. */
  groups?: ReadonlyArray<{ name: string; services: readonly string[] }>;
}

function escalation(e: ManifestEscalation | undefined): EscalationPolicy | undefined {
  if (!e) return undefined;
  if (!Number.isInteger(e.failures) || e.failures < 1) throw new Error(`escalation failures must be a positive integer, got ${e.failures}`);
  return { failures: e.failures, periodMs: parseDuration(e.period) };
}

function score(s: number | string): number {
  if (typeof s === 'number') return s;
  const t = s.trim().toUpperCase();
  if (t === 'INFINITY' || t === '+INFINITY') return 1_000_000;
  if (t === '-INFINITY') return -1_000_000;
  const n = Number(t);
  if (!Number.isInteger(n)) throw new Error(`invalid score ${s}`);
  return n;
}

/**
 * Maps a Nephele deployable manifest (see shop.deployable.yaml) to the planner's spec: services
 * become `<assembly>/<service>`, `placement.assemblies` the allowed assemblies, `escalation`
 * periods milliseconds. Validation of the manifest itself belongs to the caller.
 */
export function deployableFromManifest(manifest: DeployableManifest): DeployableSpec {
  const services = manifest.assemblies.flatMap((a) =>
    (a.services ?? []).map((s) => {
      const svc: DeployableSpec['services'][number] = {
        id: `${a.name}/${s.name}`,
        assembly: a.name,
        ...(s.placement?.assemblies ? { allowedAssemblies: s.placement.assemblies } : {}),
        ...(s.escalation ? { escalation: escalation(s.escalation)! } : {}),
        ...(s.priority !== undefined ? { priority: s.priority } : {}),
        ...(s.enabled !== undefined ? { enabled: s.enabled } : {}),
      };
      return svc;
    }),
  );
  const constraints: DeployableConstraint[] = (manifest.constraints ?? []).flatMap((c): DeployableConstraint[] => {
    if (c.order) return [{ kind: 'order', first: c.order.first, then: c.order.then }];
    if (c.colocation) return [{ kind: 'colocation', service: c.colocation.service, with: c.colocation.with, score: score(c.colocation.score) }];
    if (c.location) return [{ kind: 'location', service: c.location.service, assembly: c.location.assembly, score: score(c.location.score) }];
    return [];
  });
  const known = new Set(services.map((s) => s.id));
  const grouped = new Map<string, string>();
  const groups = (manifest.groups ?? []).map((g, i) => {
    if (typeof g.name !== 'string' || g.name === '') throw new Error(`groups[${i}].name must be a non-empty string`);
    if ((manifest.groups ?? []).findIndex((x) => x.name === g.name) !== i) throw new Error(`groups[${i}].name: duplicate group ${g.name}`);
    if (!Array.isArray(g.services) || g.services.length === 0) throw new Error(`groups[${i}].services must list at least one service`);
    for (const id of g.services) {
      if (!known.has(id)) throw new Error(`groups[${i}].services: unknown service ${id}`);
      if (grouped.has(id)) throw new Error(`groups[${i}].services: ${id} is already in group ${grouped.get(id)}`);
      grouped.set(id, g.name);
    }
    return { name: g.name, services: [...g.services] };
  });
  return {
    name: manifest.name,
    assemblies: manifest.assemblies.map((a) => ({ name: a.name, ...(a.escalation ? { escalation: escalation(a.escalation)! } : {}) })),
    services,
    constraints,
    ...(groups.length > 0 ? { groups } : {}),
  };
}

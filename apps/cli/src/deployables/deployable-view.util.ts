import { Column, renderTable } from '../output/table.util';

/** A deployable as `GET /v1/deployables/{id}` shows it. */
export interface DeployableView {
  id: string;
  name: string;
  project?: string;
  version: number;
  desired: 'started' | 'stopped';
  status: string;
  reason?: string | null;
  assemblies: AssemblyView[];
  etag?: string;
}

export interface AssemblyView {
  name: string;
  state: string;
  instanceId?: string;
  addresses?: string[];
  lastHeartbeat?: string;
  services?: { name: string; state: string }[];
}

/** One line of the status table: an assembly with one of its services. */
export interface StatusRow {
  /** False on an assembly's second and later services: its own columns stay blank. */
  first: boolean;
  assembly: string;
  assemblyState: string;
  instance?: string;
  addresses?: string[];
  service?: string;
  serviceState?: string;
}

export function statusRows(v: DeployableView): StatusRow[] {
  const rows: StatusRow[] = [];
  for (const a of v.assemblies ?? []) {
    const services = a.services ?? [];
    if (!services.length) {
      rows.push({
        first: true,
        assembly: a.name,
        assemblyState: a.state,
        instance: a.instanceId,
        addresses: a.addresses,
      });
      continue;
    }
    services.forEach((s, i) =>
      rows.push({
        first: i === 0,
        assembly: a.name,
        assemblyState: a.state,
        instance: a.instanceId,
        addresses: a.addresses,
        service: s.name,
        serviceState: s.state,
      }),
    );
  }
  return rows;
}

// An assembly's own columns show on its first line only, so the table reads as a tree.
const own = (f: (r: StatusRow) => unknown) => (r: StatusRow) => (r.first ? f(r) : ' ');
const STATUS_COLUMNS: Column<StatusRow>[] = [
  { header: 'assembly', value: own((r) => r.assembly) },
  { header: 'state', value: own((r) => r.assemblyState) },
  { header: 'instance', value: own((r) => r.instance), max: 36 },
  { header: 'addresses', value: own((r) => r.addresses) },
  { header: 'service', value: (r) => r.service },
  { header: 'service state', value: (r) => r.serviceState },
];

/** `nephele deployable status`: a header, then a table of assemblies and their services. */
export function renderStatus(v: DeployableView): string {
  const head = [
    `deployable ${v.name} (${v.id})  version ${v.version}  desired ${v.desired}`,
    `status: ${v.status}${v.reason ? ` (${v.reason})` : ''}`,
  ];
  const rows = statusRows(v);
  return [...head, '', rows.length ? renderTable(rows, STATUS_COLUMNS) : 'no assemblies observed yet'].join(
    '\n',
  );
}

export function counts(v: DeployableView): { assemblies: [number, number]; services: [number, number] } {
  const as = v.assemblies ?? [];
  const ss = as.flatMap((a) => a.services ?? []);
  return {
    assemblies: [as.filter((a) => a.state === 'online').length, as.length],
    services: [ss.filter((s) => s.state === 'running').length, ss.length],
  };
}

/** The progress of a deployable in one line, e.g. `starting  assemblies 1/2 online  services 1/3 running`. */
export function progressLine(v: DeployableView): string {
  const c = counts(v);
  const parts = [v.status];
  if (c.assemblies[1]) {
    parts.push(`assemblies ${c.assemblies[0]}/${c.assemblies[1]} online`);
    parts.push(`services ${c.services[0]}/${c.services[1]} running`);
    const bad = (v.assemblies ?? []).flatMap((a) => [
      ...(a.state === 'online' ? [] : [`${a.name}: ${a.state}`]),
      ...(a.services ?? [])
        .filter((s) => s.state !== 'running')
        .map((s) => `${a.name}/${s.name}: ${s.state}`),
    ]);
    if (bad.length) parts.push(`[${bad.slice(0, 4).join(', ')}${bad.length > 4 ? ', …' : ''}]`);
  }
  if (v.reason) parts.push(`(${v.reason})`);
  return parts.join('  ');
}

/** What `watch` does next: keep polling, or stop with an exit code and a final message. */
export type WatchVerdict = { done: false } | { done: true; exitCode: number; message: string };

/**
 * `running` ends a watch successfully; `failed` ends it with 1; a deployable stopped by request
 * never becomes running, so it ends the watch with 1 at once. Other statuses keep the watch going.
 */
export function watchVerdict(v: DeployableView): WatchVerdict {
  if (v.status === 'running') return { done: true, exitCode: 0, message: `deployable ${v.name} is running` };
  if (v.status === 'failed')
    return {
      done: true,
      exitCode: 1,
      message: `deployable ${v.name} failed${v.reason ? `: ${v.reason}` : ''}`,
    };
  if (v.desired === 'stopped')
    return {
      done: true,
      exitCode: 1,
      message: `deployable ${v.name} is stopped by request; start it with \`nephele deployable start ${v.name}\``,
    };
  return { done: false };
}

/** Elapsed seconds as a fixed-width prefix: `[  12s]`. */
export function elapsedPrefix(ms: number): string {
  return `[${`${Math.floor(ms / 1000)}s`.padStart(5)}]`;
}

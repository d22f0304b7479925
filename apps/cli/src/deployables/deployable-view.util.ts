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
  conditions?: Condition[];
  assemblies: AssemblyView[];
  etag?: string;
  /** Set by the API when an apply stored nothing new (the same document as the current version). */
  unchanged?: boolean;
}

/** A Kubernetes-style condition (deployables, assemblies and services carry them). */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** Conditions that say something is wrong: not a positive one that holds (`Ready=True`). */
export function troubleOf(conditions: readonly Condition[] | undefined): Condition[] {
  const positive = /^(ready|available|running|healthy|online|started)$/i;
  // Positive types (`Ready`) are trouble when they do not hold; negative ones (`Failed`) when they do.
  return (conditions ?? []).filter((c) =>
    positive.test(c.type) ? c.status !== 'True' : c.status === 'True',
  );
}

/** `Reason: message` of a condition. */
export function conditionText(c: Condition): string {
  const head = c.reason ?? c.type;
  return c.message ? `${head}: ${c.message}` : head;
}

/** A service's name inside its assembly: the API names services `<assembly>/<service>`. */
export function shortService(assembly: string, service: string): string {
  return service.startsWith(`${assembly}/`) ? service.slice(assembly.length + 1) : service;
}

export interface AssemblyView {
  name: string;
  state: string;
  instanceId?: string;
  addresses?: string[];
  lastHeartbeat?: string;
  conditions?: Condition[];
  /** `group`: the service group the service belongs to, if any. */
  /** `clone`: the clone the service is an instance of, if any (one instance per assembly). */
  services?: { name: string; state: string; group?: string; clone?: string; conditions?: Condition[] }[];
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
  /** The service's group (a column shown only when some service is in one). */
  group?: string;
  /** The clone the service is an instance of (a column shown only when some service is one). */
  clone?: string;
  serviceState?: string;
  reason?: string;
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
        ...(troubleOf(a.conditions).length
          ? { reason: troubleOf(a.conditions).map(conditionText).join('; ') }
          : {}),
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
        service: shortService(a.name, s.name),
        ...(s.group ? { group: s.group } : {}),
        ...(s.clone ? { clone: s.clone } : {}),
        serviceState: s.state,
        reason:
          [...troubleOf(a.conditions), ...troubleOf(s.conditions)].map(conditionText).join('; ') || undefined,
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
  { header: 'group', value: (r) => r.group },
  { header: 'clone', value: (r) => r.clone },
  { header: 'service state', value: (r) => r.serviceState },
  { header: 'reason', value: (r) => r.reason || undefined, max: 100 },
];

const CONDITION_COLUMNS: Column<Condition & { object: string }>[] = [
  { header: 'object', value: (c) => c.object },
  { header: 'type', value: (c) => c.type },
  { header: 'status', value: (c) => c.status },
  { header: 'reason', value: (c) => c.reason },
  { header: 'message', value: (c) => c.message, max: 100 },
  { header: 'since', value: (c) => c.lastTransitionTime },
];

/** Every condition of a deployable, its assemblies and services, as one table ('' when none). */
export function renderConditions(v: DeployableView): string {
  const rows = [
    ...(v.conditions ?? []).map((c) => ({ ...c, object: v.name })),
    ...(v.assemblies ?? []).flatMap((a) => [
      ...(a.conditions ?? []).map((c) => ({ ...c, object: a.name })),
      ...(a.services ?? []).flatMap((s) =>
        (s.conditions ?? []).map((c) => ({ ...c, object: `${a.name}/${shortService(a.name, s.name)}` })),
      ),
    ]),
  ];
  return rows.length ? renderTable(rows, CONDITION_COLUMNS) : '';
}

/** `nephele deployable status`: a header, then a table of assemblies and their services. */
export function renderStatus(v: DeployableView): string {
  const head = [
    `deployable ${v.name} (${v.id})  version ${v.version}  desired ${v.desired}`,
    `status: ${v.status}${reasonOf(v) ? ` (${reasonOf(v)})` : ''}`,
  ];
  const rows = statusRows(v);
  const conditions = renderConditions(v);
  return [
    ...head,
    '',
    rows.length
      ? renderTable(
          rows,
          // The group, clone and reason columns only when some line has one.
          STATUS_COLUMNS.filter(
            (c) =>
              (c.header !== 'group' || rows.some((r) => r.group)) &&
              (c.header !== 'clone' || rows.some((r) => r.clone)) &&
              (c.header !== 'reason' || rows.some((r) => r.reason)),
          ),
        )
      : 'no assemblies observed yet',
    ...(conditions ? ['', conditions] : []),
  ].join('\n');
}

/** Why a deployable is as it is: its `reason`, else its conditions' reasons. */
export function reasonOf(v: DeployableView): string {
  if (v.reason) return v.reason;
  return troubleOf(v.conditions).map(conditionText).join('; ');
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
        .map((s) => {
          const why = troubleOf(s.conditions)[0];
          return `${a.name}/${shortService(a.name, s.name)}: ${s.state}${why ? ` (${conditionText(why)})` : ''}`;
        }),
    ]);
    if (bad.length) parts.push(`[${bad.slice(0, 4).join(', ')}${bad.length > 4 ? ', …' : ''}]`);
  }
  const reason = reasonOf(v);
  if (reason) parts.push(`(${reason})`);
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
      message: `deployable ${v.name} failed${reasonOf(v) ? `: ${reasonOf(v)}` : ''}`,
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

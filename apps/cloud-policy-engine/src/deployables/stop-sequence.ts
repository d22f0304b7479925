import { Inject, Injectable, Optional } from '@nestjs/common';
import { EdgeConnection, LoggerLike } from '@nephele/bus';
import {
  AgentAddresses,
  agentCredential,
  AgentCommand,
  CloudEvent,
  createEvent,
  DeployableDocument,
  parseAgentEvent,
  ServiceFailed,
  ServiceStopped,
  signAgentMessage,
  toAgentServiceSpec,
  verifyAgentMessage,
} from '@nephele/contracts';
import { AppLogger } from '@nephele/observability';
import { LOGGER } from '@nephele/service-kit';
import { CPE_EDGE, SERVICE } from '../cpe.tokens';

// Note [Orderly stop]
// Stop and destroy take the services down through their agents before any instance is deleted,
// the way Pacemaker stops a cluster: in reverse dependency order (for `order: {first: A, then: B}`
// B stops before A; a group's services in reverse of the group's order), each through its class
// (OCF/LSB/systemd `stop`, a process SIGTERM then SIGKILL after its stop timeout). The DPE is
// stopped first (it would restart what we stop); the commands carry the new epoch the CPE just
// took, signed with each assembly's credential, so the agents accept them and every older DPE is
// fenced out. A stop that fails or times out is reported (`nephele.service.failed` with the
// reason) and the sequence goes on: the instance goes anyway.

export interface ObservedAssembly {
  name: string;
  assemblyId?: string;
  instanceId?: string;
  addresses?: string[];
  state?: string;
  services?: { name: string; state: string }[];
}

export interface StopResult {
  service: string;
  assembly: string;
  ok: boolean;
  reason: string;
}

/** Services in stop order: reverse topological order of the `order` constraints and the groups. */
export function stopOrder(doc: DeployableDocument): string[] {
  const ids = doc.assemblies.flatMap((a) => a.services.map((s) => `${a.name}/${s.name}`));
  const thenOf = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const c of doc.constraints) if (c.kind === 'order') thenOf.get(c.first)?.push(c.then);
  // A group starts its services in order, so it stops them in reverse (Note [Groups] in @nephele/policy).
  for (const g of doc.groups ?? [])
    for (let i = 1; i < g.services.length; i++) thenOf.get(g.services[i - 1]!)?.push(g.services[i]!);
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  // Depth-first: a service is listed after everything that must stop before it (its `then`s).
  const visit = (id: string): void => {
    if (state.get(id)) return;
    state.set(id, 'visiting');
    for (const t of thenOf.get(id) ?? []) visit(t);
    state.set(id, 'done');
    out.push(id);
  };
  for (const id of ids) visit(id);
  return out;
}

@Injectable()
export class StopSequence {
  private readonly log: LoggerLike;

  constructor(
    @Inject(LOGGER) log: AppLogger,
    @Optional() @Inject(CPE_EDGE) private readonly edge?: EdgeConnection | null,
  ) {
    this.log = log;
  }

  /**
   * Stops every service of the deployable that an agent may run, in stop order. Returns each
   * result, and the events that report them (the caller stores them with its own change).
   */
  async run(
    d: { id: string; project: string },
    doc: DeployableDocument | undefined,
    observed: ObservedAssembly[],
    agentKey: string | undefined,
    epoch: number,
    why: string,
  ): Promise<{ results: StopResult[]; events: CloudEvent[] }> {
    const results: StopResult[] = [];
    if (!doc || !this.edge || !agentKey) return { results, events: [] };
    const byName = new Map(observed.map((a) => [a.name, a]));
    for (const id of stopOrder(doc)) {
      const [home, name] = id.split('/') as [string, string];
      const svc = doc.assemblies.find((a) => a.name === home)?.services.find((s) => s.name === name);
      if (!svc) continue;
      // Where it runs now (it may have moved), else its home.
      const where =
        observed.find((a) => a.services?.some((s) => s.name === id && s.state !== 'stopped')) ??
        byName.get(home);
      // Only an assembly whose agent was heard runs anything: a pending one (still launching, its
      // agent not yet connected) would only make the stop wait out its timeout.
      if (!where?.assemblyId || where.state !== 'online') continue;
      const resolve = (asm: string, param: string) =>
        param === 'address' || param === 'ip' ? byName.get(asm)?.addresses?.[0] : undefined;
      let mapped = toAgentServiceSpec(svc, resolve);
      if (!('spec' in mapped)) {
        // Unresolvable references: stop with the literal parameters (a stop rarely needs them).
        const literal = Object.fromEntries(
          Object.entries(svc.parameters).filter(([, v]) => typeof v === 'string'),
        );
        mapped = toAgentServiceSpec({ ...svc, parameters: literal }, resolve);
      }
      if (!('spec' in mapped)) continue;
      const agentSpec = mapped.spec;
      agentSpec.name = id.replace('/', '.');
      results.push(await this.stopOne(where.assemblyId, where.name, id, agentSpec, agentKey, epoch));
    }
    const events = results.map((r) =>
      createEvent(
        SERVICE,
        r.ok ? ServiceStopped.type : ServiceFailed.type,
        {
          deployableId: d.id,
          assemblyId: observed.find((a) => a.name === r.assembly)?.assemblyId ?? r.assembly,
          assembly: r.assembly,
          service: r.service,
          reason: r.ok
            ? `${why}: ${r.reason}`
            : `stop failed (${why}; the instance goes anyway): ${r.reason}`,
          epoch,
        },
        { subject: d.id, project: d.project },
      ),
    );
    return { results, events };
  }

  private async stopOne(
    assemblyId: string,
    assembly: string,
    serviceId: string,
    service: AgentCommand['service'],
    agentKey: string,
    epoch: number,
  ): Promise<StopResult> {
    const credential = agentCredential(agentKey, assemblyId);
    const cmd = signAgentMessage(credential, {
      kind: 'command' as const,
      action: 'stop' as const,
      requestId: `cpe-stop:${epoch}:${serviceId}`,
      epoch,
      service,
      issuedAt: new Date().toISOString(),
    });
    const timeoutMs = (service.stopTimeoutMs ?? Math.max(10_000, service.monitor.timeoutMs)) + 5000;
    try {
      const reply = await this.edge!.request(AgentAddresses.commands(assemblyId), cmd, { timeoutMs });
      if (!verifyAgentMessage(credential, reply.body))
        return {
          service: serviceId,
          assembly,
          ok: false,
          reason: 'the reply was not signed by the assembly',
        };
      const r = parseAgentEvent(reply.body);
      if (!r.ok) return { service: serviceId, assembly, ok: false, reason: 'invalid reply from the agent' };
      if (r.value.kind === 'command-refused')
        return { service: serviceId, assembly, ok: false, reason: `refused: ${r.value.reason}` };
      if (r.value.kind !== 'service-status')
        return { service: serviceId, assembly, ok: false, reason: 'unexpected reply' };
      return { service: serviceId, assembly, ok: r.value.state === 'stopped', reason: r.value.reason };
    } catch (e) {
      this.log.warn({ service: serviceId, assembly, err: (e as Error).message }, 'stopping a service failed');
      return { service: serviceId, assembly, ok: false, reason: (e as Error).message };
    }
  }
}

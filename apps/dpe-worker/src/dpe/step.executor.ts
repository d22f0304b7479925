import {
  AgentAddresses,
  AgentCommand,
  createEvent,
  InstanceCreate,
  InstanceDestroy,
  parseAgentEvent,
  ServiceStarted,
  ServiceStopped,
  Topology,
} from '@nephele/contracts';
import { PolicyStep } from '@nephele/policy';
import { ReconcileResult } from '@nephele/service-kit';
import { DpeIntake } from './dpe.intake';
import { DpeReporter } from './dpe.reporter';
import { agentServiceName, AssemblyRt, DpeContext, newAssembly, ownerOf, SERVICE } from './dpe.types';
import { DeployableState } from './observed-state';
import { serviceDoc, toAgentService } from './spec.mapping';

/** A step that could not be carried out now is tried again by a later pass (the periodic one at the latest). */
const RETRY_STEP_MS = 2000;

/**
 * Carries the DPE's steps out: agent commands (start/stop a service), instance launches and
 * destroys (commands to the gateway), assembly replacement.
 */
export class DpeStepExecutor {
  private seq = 0;

  constructor(
    private readonly ctx: DpeContext,
    private readonly state: DeployableState,
    private readonly report: DpeReporter,
    private readonly intake: DpeIntake,
  ) {}

  /** One step of the policy engine's plan. */
  async step(s: PolicyStep): Promise<ReconcileResult> {
    const a = this.state.assemblies.get(s.node);
    switch (s.op) {
      case 'start':
      case 'stop': {
        if (!a || !s.resource) return ReconcileResult.requeueAfter(RETRY_STEP_MS, `no assembly ${s.node}`);
        return this.serviceStep(a, s.op, s.resource);
      }
      case 'replace-assembly': {
        if (!a) return ReconcileResult.requeueAfter(RETRY_STEP_MS, `no assembly ${s.node}`);
        const action = this.state.lastPlan?.actions.find((x) => x.id === s.action);
        if (action?.kind === 'replace-assembly' && action.recordsAssemblyFailure) {
          (this.state.history.assemblies[a.name] ??= []).push(this.ctx.now());
        }
        await this.replace(a, action?.explanation ?? 'replace the assembly');
        return ReconcileResult.done();
      }
      case 'mark-failed': {
        const action = this.state.lastPlan?.actions.find((x) => x.id === s.action);
        const message = action?.explanation ?? `assembly ${s.node} failed too often`;
        this.report.fail({
          entity: 'assembly',
          name: s.node,
          reason: 'RecoveryExhausted',
          message,
          at: this.ctx.now(),
        });
        return ReconcileResult.terminal(message);
      }
    }
  }

  /** Stops a service the configuration no longer has, with its last definition (Note [Removed services]). */
  stopRemoved(a: AssemblyRt, serviceId: string): Promise<ReconcileResult> {
    return this.serviceStep(a, 'stop', serviceId);
  }

  private async serviceStep(
    a: AssemblyRt,
    op: 'start' | 'stop',
    serviceId: string,
  ): Promise<ReconcileResult> {
    const doc = serviceDoc(this.state.doc!, serviceId) ?? this.state.retired.get(serviceId);
    if (!doc) return ReconcileResult.requeueAfter(RETRY_STEP_MS, `no service ${serviceId}`);
    const resolved = toAgentService(doc, (asm, param) => this.state.resolveParameter(asm, param));
    if ('unresolved' in resolved) {
      this.ctx.log.info(
        { service: serviceId, unresolved: resolved.unresolved },
        'waiting for referenced assemblies',
      );
      return ReconcileResult.requeueAfter(RETRY_STEP_MS, 'waiting for referenced assemblies');
    }
    resolved.spec.name = agentServiceName(serviceId);
    return (await this.command(a, op, resolved.spec, serviceId))
      ? ReconcileResult.done()
      : ReconcileResult.requeueAfter(RETRY_STEP_MS, `${op} ${serviceId} did not succeed`);
  }

  /** Sends a start/stop to an agent and waits for its result. */
  private async command(
    a: AssemblyRt,
    action: 'start' | 'stop',
    spec: AgentCommand['service'],
    serviceId: string,
  ): Promise<boolean> {
    const reply = await this.send(a, action, spec, serviceId);
    if (reply === undefined) return false;
    const r = parseAgentEvent(reply);
    if (!r.ok) return false;
    const ev = r.value;
    if (ev.kind === 'command-refused') {
      if (ev.highestEpoch > this.ctx.epoch) await this.ctx.persist(); // the CPE says whether we are stale
      return false;
    }
    if (ev.kind !== 'service-status') return false;
    a.services.set(spec.name, { state: ev.state, at: this.ctx.now(), reportedAt: Date.parse(ev.at) });
    const ok = action === 'start' ? ev.state === 'running' : ev.state === 'stopped';
    if (ok) {
      await this.report.publishEvent(action === 'start' ? ServiceStarted.type : ServiceStopped.type, {
        deployableId: this.ctx.deployableId,
        assemblyId: this.state.assemblyIdOf(a),
        assembly: a.name,
        service: serviceId,
        reason: ev.reason,
        epoch: this.ctx.epoch,
      });
    } else if (ev.state === 'failed') {
      this.intake.recordServiceFailure(a, spec.name, `${action} failed: ${ev.reason}`, ev.exitCode, ev.cause);
    }
    if (ok && action === 'start') this.state.serviceFailures.delete(serviceId);
    return ok;
  }

  /** The signed command to the agent; its (authentic) reply, or undefined. */
  private async send(
    a: AssemblyRt,
    action: 'start' | 'stop',
    spec: AgentCommand['service'],
    serviceId: string,
  ): Promise<unknown> {
    const now = this.ctx.now();
    const assemblyId = this.state.assemblyIdOf(a);
    const auth = this.state.auth!;
    const cmd = auth.sign(assemblyId, {
      kind: 'command',
      action,
      requestId: `${this.ctx.epoch}:${now}:${++this.seq}`,
      epoch: this.ctx.epoch,
      service: spec,
      issuedAt: new Date(now).toISOString(),
    });
    try {
      const r = await this.ctx.d.edge.request(AgentAddresses.commands(assemblyId), cmd, {
        // A start may take its whole start timeout (checks included), and then some.
        timeoutMs: Math.max(this.ctx.d.commandTimeoutMs ?? 60_000, (spec.startTimeoutMs ?? 0) + 10_000),
      });
      return auth.check(r.body) ? undefined : r.body;
    } catch (e) {
      this.ctx.log.warn(
        { assembly: a.name, service: serviceId, action, err: (e as Error).message },
        'agent command failed',
      );
      return undefined;
    }
  }

  /** Asks the gateway for the assembly's instance (idempotent by owner; see Note [DPE]). */
  async launch(a: AssemblyRt): Promise<void> {
    const s = this.state;
    const doc = s.doc!;
    const asm = doc.assemblies.find((x) => x.name === a.name)!;
    const owner = ownerOf(this.ctx.deployableId, a.name, a.incarnation);
    a.launchRequestedAt = this.ctx.now();
    const credential = s.auth!.credential(s.assemblyIdOf(a));
    const userData = JSON.stringify({
      assemblyId: s.assemblyIdOf(a),
      deployableId: this.ctx.deployableId,
      ...(credential ? { agentSecret: credential } : {}),
      amqp10Url: this.ctx.d.agentEdgeUrl,
      heartbeatInterval: `${doc.monitor.heartbeatIntervalMs}ms`,
    });
    const data = {
      owner,
      idempotencyKey: owner,
      pool: doc.pool,
      ...(s.project ? { project: s.project } : {}),
      image: asm.image,
      hardwareProfile: asm.hardwareProfile,
      name: `${doc.name}-${a.name}-${a.incarnation}`,
      userData,
      metadata: { nephele_deployable: this.ctx.deployableId, nephele_assembly: a.name },
      epoch: this.ctx.epoch,
    };
    await this.ctx.d.bus.publish(
      createEvent(SERVICE, InstanceCreate.type, data, { subject: this.ctx.deployableId }),
      { exchange: Topology.commands },
    );
    await this.ctx.persist();
    if (a.incarnation > 1 || s.everRunning) {
      await this.report.decision({
        action: 'create-assembly',
        assembly: a.name,
        explanation: `launch ${a.name} incarnation ${a.incarnation}`,
      });
    }
  }

  async destroyInstance(a: AssemblyRt, instanceId: string, reason: string): Promise<void> {
    const owner = ownerOf(this.ctx.deployableId, a.name, a.incarnation);
    await this.ctx.d.bus.publish(
      createEvent(
        SERVICE,
        InstanceDestroy.type,
        { instanceId, owner, reason, epoch: this.ctx.epoch },
        { subject: this.ctx.deployableId },
      ),
      { exchange: Topology.commands },
    );
  }

  /** Replaces an assembly's instance: destroy incarnation n, launch n+1. */
  private async replace(a: AssemblyRt, reason: string): Promise<void> {
    if (a.instanceId && a.instanceState !== 'terminated') await this.destroyInstance(a, a.instanceId, reason);
    const next = newAssembly(a.name, a.incarnation + 1);
    this.state.assemblies.set(a.name, next);
    await this.launch(next);
  }
}

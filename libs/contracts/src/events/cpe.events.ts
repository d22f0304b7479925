import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { defineMessage } from '../registry';
import { DEPLOYABLE_STATUSES, DeployableStatus } from './policy-engine.events';

// The CPE ↔ DPE contract. A deployable's normalised document (`DeployableDocument`) is what the
// CPE stores for every version and what a DPE acts on, whatever format the user sent.

/** Escalation: `failures` within `periodMs` escalate to the next rung of the recovery ladder. */
export interface EscalationDoc {
  failures: number;
  periodMs: number;
}

/** A parameter value: a literal, or a reference to another assembly's parameter (e.g. its address). */
export type ParameterValueDoc = string | { ref: { assembly: string; parameter: string } };

export interface ServiceDoc {
  name: string;
  class: 'process' | 'systemd' | 'lsb' | 'ocf';
  /** OCF provider (`heartbeat`), or unset. */
  provider?: string;
  /** OCF type, LSB script or systemd unit. */
  type?: string;
  /** `process` services: argv. */
  command?: string[];
  parameters: Record<string, ParameterValueDoc>;
  monitor: {
    intervalMs: number;
    timeoutMs: number;
    tcp?: { port: number; host?: string };
    http?: { port: number; path: string };
  };
  escalation?: EscalationDoc;
  /** Assemblies the service may run on (default: its own). */
  placement?: { assemblies: string[] };
  priority?: number;
  enabled?: boolean;
  /** How long start may take (its checks included); default max(20 s, monitor timeout). */
  startTimeoutMs?: number;
  /** How long stop may take before SIGKILL / failure; default max(10 s, monitor timeout). */
  stopTimeoutMs?: number;
  /** Back-off between recovery attempts of this service (default: the deployable's). */
  backoff?: BackoffDoc;
}

/** Exponential back-off between attempts: initialMs, then ×2 each attempt, at most maxMs. */
export interface BackoffDoc {
  initialMs: number;
  maxMs: number;
}

/**
 * A deployable's recovery budgets (Note [Recovery budgets] in the DPE). Every rung is bounded:
 * restarts per service (`escalation`), moves per service, replacements per assembly
 * (`assemblyEscalation`), launch attempts per assembly; when one is spent the deployable is
 * `failed` until the user acts (start, update, retry).
 */
export interface RecoveryDoc {
  /** Default escalation of services that have none (restart budget); default 3 within 10 min. */
  escalation?: EscalationDoc;
  /** Default escalation of assemblies that have none (replacement budget); default 3 within 30 min. */
  assemblyEscalation?: EscalationDoc;
  /** Moves of one service within its escalation period before it is failed; default 3. */
  moves?: number;
  /** Launch attempts of one assembly in a row before it is failed; default 5. */
  launchAttempts?: number;
  /** Back-off between recovery attempts; default 1 s doubling up to 60 s. */
  backoff?: BackoffDoc;
}

export interface AssemblyDoc {
  name: string;
  image: string;
  hardwareProfile: string;
  escalation?: EscalationDoc;
  services: ServiceDoc[];
}

export type ConstraintDoc =
  | { kind: 'order'; id?: string; first: string; then: string }
  | { kind: 'colocation'; id?: string; service: string; with: string; score: number }
  | { kind: 'location'; id?: string; service: string; assembly: string; score: number };

/**
 * A service group: its services (`<assembly>/<service>`, all on one assembly) run together on one
 * assembly, start in this order and stop in reverse; the group moves when a member escalates.
 */
export interface GroupDoc {
  name: string;
  services: string[];
}

/**
 * A clone: one service that runs on every assembly of a set, one instance per assembly. The
 * normalised document carries the instances as ordinary services `<assembly>/<service>` under each
 * of those assemblies (pinned there: an instance never moves); this entry says which they are.
 */
export interface CloneDoc {
  /** Unique among the deployable's clones and groups. */
  name: string;
  /** The instances' service name: instance `<assembly>/<service>` on each assembly. */
  service: string;
  /** The assemblies it runs on, one instance each. */
  assemblies: string[];
}

/** A deployable, normalised: services are named `<assembly>/<service>` in constraints and groups. */
export interface DeployableDocument {
  name: string;
  /** Pool name or id (default: the project's `default` pool). */
  pool: string;
  monitor: { heartbeatIntervalMs: number; missedHeartbeats: number };
  assemblies: AssemblyDoc[];
  constraints: ConstraintDoc[];
  /** Service groups (absent: none); a service is in at most one. */
  groups?: GroupDoc[];
  /** Clones (absent: none); their instances are listed with the services of their assemblies. */
  clones?: CloneDoc[];
  /** Recovery budgets and back-off; defaults apply when absent. */
  recovery?: RecoveryDoc;
}

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

/**
 * A Kubernetes-style condition: one aspect of an object's state, with a machine-readable reason
 * (CamelCase, e.g. `AgentNotInstalled`) and a message for people. `Ready` is always present;
 * `Failed` (status True) marks a terminal state that stays until the user acts.
 */
export class ConditionData {
  /** `Ready` or `Failed`. */
  @IsString() @MaxLength(100) type!: string;
  @IsIn(CONDITION_STATUSES) status!: (typeof CONDITION_STATUSES)[number];
  @IsString() @MaxLength(100) reason!: string;
  @IsString() @MaxLength(2000) message!: string;
  /** RFC 3339: when status or reason last changed. */
  @IsString() lastTransitionTime!: string;
}
export type Condition = ConditionData;

export class DeployableConfigChangedData {
  @IsString() deployableId!: string;
  @IsInt() @Min(1) version!: number;
  @IsIn(['started', 'stopped']) desired!: 'started' | 'stopped';
}
export const DeployableConfigChanged = defineMessage({
  type: 'nephele.deployable.config_changed',
  kind: 'event',
  data: DeployableConfigChangedData,
  description: 'A deployable has a new configuration version (its DPE re-reads it).',
});

export class ObservedServiceData {
  @IsString() name!: string;
  @IsString() state!: string;
  @IsOptional() @IsString() assembly?: string;
  /** The service group it belongs to (`groups[].name` of the deployable), if any. */
  @IsOptional() @IsString() group?: string;
  /** The clone it is an instance of (`clones[].name` of the deployable), if any. */
  @IsOptional() @IsString() clone?: string;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ConditionData)
  conditions?: ConditionData[];
}

export class ObservedAssemblyData {
  @IsString() name!: string;
  @IsString() state!: string;
  @IsOptional() @IsString() assemblyId?: string;
  @IsOptional() @IsString() instanceId?: string;
  @IsOptional() @IsArray() addresses?: string[];
  @IsOptional() @IsString() lastHeartbeat?: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ObservedServiceData)
  services!: ObservedServiceData[];
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ConditionData)
  conditions?: ConditionData[];
}

export class DeployableObservedData {
  @IsString() deployableId!: string;
  @IsInt() @Min(0) epoch!: number;
  @IsInt() @Min(0) version!: number;
  @IsIn(DEPLOYABLE_STATUSES) status!: DeployableStatus;
  @IsOptional() @IsString() @MaxLength(2000) reason?: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ObservedAssemblyData)
  assemblies!: ObservedAssemblyData[];
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ConditionData)
  conditions?: ConditionData[];
}
export const DeployableObserved = defineMessage({
  type: 'nephele.deployable.observed',
  kind: 'event',
  data: DeployableObservedData,
  transient: true,
  description: 'A DPE’s view of its deployable: assemblies, services and status (live status for the CPE).',
});

export class DeployableRefData {
  @IsString() deployableId!: string;
}
/**
 * Request to the CPE: reply `{id, name, project, pool, version, desired, document, agentKey}` or
 * null. `agentKey` is the deployable's agent key (Note [Agent identity]); the core bus is trusted.
 */
export const CpeDeployableGet = defineMessage({
  type: 'nephele.cpe.deployable.get',
  kind: 'command',
  data: DeployableRefData,
  transient: true,
  description: 'A DPE reads its deployable’s current configuration (request/reply).',
});

/** Request to the CPE: reply `{state}` (the DPE’s saved state: failure history, incarnations) or `{state: null}`. */
export const CpeDpeStateGet = defineMessage({
  type: 'nephele.cpe.dpe_state.get',
  kind: 'command',
  data: DeployableRefData,
  transient: true,
  description: 'A DPE reads the state its predecessors saved (request/reply).',
});

export class DpeStatePutData {
  @IsString() deployableId!: string;
  @IsInt() @Min(0) epoch!: number;
  @IsObject() state!: Record<string, unknown>;
}
/** Request to the CPE: reply `{ok: true}`, or `{ok: false, reason}` for a stale epoch. */
export const CpeDpeStatePut = defineMessage({
  type: 'nephele.cpe.dpe_state.put',
  kind: 'command',
  data: DpeStatePutData,
  transient: true,
  description: 'A DPE saves its state (fenced by epoch) so a restarted DPE resumes it (request/reply).',
});

export class DpeDecisionData {
  @IsString() deployableId!: string;
  @IsInt() @Min(0) epoch!: number;
  /** start | stop | restart | move | replace-assembly | mark-failed | create-assembly */
  @IsString() action!: string;
  /** The rung of the recovery ladder, when it is a recovery. */
  @IsOptional() @IsString() rung?: string;
  @IsOptional() @IsString() service?: string;
  @IsOptional() @IsString() assembly?: string;
  @IsOptional() @IsString() from?: string;
  @IsString() @MaxLength(2000) explanation!: string;
}
export const DpeDecision = defineMessage({
  type: 'nephele.dpe.decision',
  kind: 'event',
  data: DpeDecisionData,
  description: 'An action a DPE decided to carry out, with the policy engine’s explanation.',
});

export class DpeControlData {
  /** The worker that hosts the DPE. */
  @IsString() workerId!: string;
  @IsString() deployableId!: string;
  @IsIn(['start', 'stop']) action!: 'start' | 'stop';
  @IsInt() @Min(0) epoch!: number;
}
/** CPE → a DPE worker: start or stop one DPE in it (workers host several with DPE_PER_WORKER). */
export const DpeControl = defineMessage({
  type: 'nephele.dpe.control',
  kind: 'command',
  data: DpeControlData,
  description: 'Start or stop one DPE in a worker.',
});

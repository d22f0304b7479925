import { PolicyAction, PolicyStep } from './action.types';

/**
 * The recovery-ladder layer, which the DPE calls: a deployable's assemblies (nodes) and
 * services (primitives), as in `shop.deployable.yaml` or pacemaker-cloud XML. Durations are
 * milliseconds, times epoch milliseconds. Services are named `<assembly>/<service>` (the YAML's
 * `db1/store`; pacemaker-cloud's `rsc_db1_store`).
 */

/** pacemaker-cloud's escalation: `failures` within `periodMs` escalate to the next rung. */
export interface EscalationPolicy {
  /** `escalation_failures`: this many failures within the period escalate (≥ 1). */
  failures: number;
  /** `escalation_period` in ms. */
  periodMs: number;
}

/** One assembly (a VM / instance; a node to the engine). */
export interface DeployableAssemblySpec {
  name: string;
  /** When it has failed `failures` times within the period, the deployable is marked failed. */
  escalation?: EscalationPolicy;
}

/** One service (a primitive to the engine). */
export interface DeployableServiceSpec {
  /** `<assembly>/<service>`, unique in the deployable. */
  id: string;
  /** The assembly the service is declared under: its home, preferred when it is up. */
  assembly: string;
  /**
   * Assemblies the service may run on (`placement.assemblies`); default: only its home.
   * A single entry pins the service: when it escalates, its assembly is replaced instead.
   */
  allowedAssemblies?: readonly string[];
  /** Failures within the period before the service leaves its assembly; default: never. */
  escalation?: EscalationPolicy;
  /** Higher priority services are placed first (default 0). */
  priority?: number;
  /** False keeps the service stopped (Pacemaker `target-role=Stopped`); default true. */
  enabled?: boolean;
  /** Overrides `DeployableSpec.defaults.stickiness`. */
  stickiness?: number;
}

/** Constraints between services, by service id. Scores: integers, ±1,000,000 = must. */
export type DeployableConstraint =
  | { kind: 'order'; id?: string; first: string; then: string }
  | { kind: 'colocation'; id?: string; service: string; with: string; score: number }
  | { kind: 'location'; id?: string; service: string; assembly: string; score: number };

/**
 * A service group: its services run on one assembly, start in this order and stop in reverse
 * (a Pacemaker group, see Note [Groups] in groups.ts). A service is in at most one group.
 */
export interface DeployableGroupSpec {
  /** Unique among the deployable's groups. */
  name: string;
  /** Service ids (`<assembly>/<service>`), in start order; at least one. */
  services: readonly string[];
}

/** A deployable as the policy engine sees it. Order of services matters only for ties. */
export interface DeployableSpec {
  name: string;
  assemblies: readonly DeployableAssemblySpec[];
  services: readonly DeployableServiceSpec[];
  constraints?: readonly DeployableConstraint[];
  groups?: readonly DeployableGroupSpec[];
  defaults?: {
    /** Preference for staying put (default 200, above `homePreference` so a moved service stays). */
    stickiness?: number;
    /** Location score of a service for its home assembly (default 100). */
    homePreference?: number;
  };
}

/** Observed state of an assembly. */
export interface AssemblyObservation {
  /**
   * `online`: heartbeating; `failed`: declared failed (missed heartbeats / instance gone);
   * `pending`: being created or replaced (runs nothing yet, and is not replaced again).
   */
  state: 'online' | 'failed' | 'pending';
  /** When its current instance started: service failures before this are forgotten. */
  since?: number;
}

/** Observed state of a service. */
export interface ServiceObservation {
  state: 'running' | 'failed' | 'stopped';
  /** Where it runs or failed (required unless stopped). */
  assembly?: string;
}

/** What the DPE sees now. Assemblies not listed are `pending`; services not listed are stopped. */
export interface DeployableObservedState {
  assemblies: Readonly<Record<string, AssemblyObservation | undefined>>;
  services: Readonly<Record<string, ServiceObservation | undefined>>;
}

/** One recorded service failure. */
export interface ServiceFailure {
  at: number;
  assembly: string;
}

/**
 * Failures the DPE has recorded. A service failure is recorded when it is reported (so the one
 * being handled is included). An assembly failure is recorded when an assembly is declared
 * failed, and when the DPE carries out a `replace-assembly` with `recordsAssemblyFailure`.
 * Entries older than the longest period can be dropped.
 */
export interface DeployableFailureHistory {
  services?: Readonly<Record<string, readonly ServiceFailure[]>>;
  assemblies?: Readonly<Record<string, readonly number[]>>;
}

/** `nephele.deployable.status_changed` vocabulary, as far as the planner can tell. */
export type DeployablePlanStatus = 'running' | 'recovering' | 'failed';

/** The decision of `planDeployable()`. */
export interface DeployablePlan {
  /** `failed` once an assembly's escalation is exhausted; `recovering` while recovery actions run. */
  status: DeployablePlanStatus;
  /** Where each service will run, or null (after pending replacements complete). */
  placement: Record<string, string | null>;
  /** Actions in executable order; recovery rungs carry `rung` and their reason. */
  actions: PolicyAction[];
  /** All steps, topologically sorted by `after`. */
  steps: PolicyStep[];
  /** One line per service (and per assembly being replaced): why. */
  explanations: Record<string, string>;
}

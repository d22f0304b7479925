import { Bus, EdgeConnection, LoggerLike } from '@nephele/bus';
import { InstanceState, ServiceState } from '@nephele/contracts';
import type { DpeClock } from './dpe.clock';
import { TerminalFailure } from './recovery-budget';

export const SERVICE = 'dpe-worker';

export interface DpeDeps {
  deployableId: string;
  epoch: number;
  workerId: string;
  bus: Bus;
  edge: EdgeConnection;
  log: LoggerLike;
  /** The AMQP 1.0 URL agents connect to (put in their user data). */
  agentEdgeUrl: string;
  now?: () => number;
  /** The host's clock (Note [Host clock]); without it the DPE ticks on a timer of its own. */
  clock?: DpeClock;
  /** An instance that runs but never heartbeats is failed after this (default 90 s). */
  bootTimeoutMs?: number;
  /** How long an agent command may take before it counts as failed (default 60 s). */
  commandTimeoutMs?: number;
  /** Called when the DPE learns it is stale or its deployable is gone. */
  onStop?: (reason: string) => void;
}

export interface ServiceSeen {
  state: ServiceState;
  at: number;
  /**
   * The agent's time of the report this state comes from. Heartbeats and service reports travel
   * separately; an older report must not overwrite a newer one (a heartbeat sent just before a
   * failure would otherwise make the service look running again, and the failure count twice).
   */
  reportedAt: number;
}

/** What the DPE knows of one assembly (the current incarnation). */
export interface AssemblyRt {
  name: string;
  incarnation: number;
  instanceId?: string;
  instanceState?: InstanceState;
  addresses: string[];
  launchRequestedAt?: number;
  launchFailures: number;
  retryAt?: number;
  lastHeartbeat?: number;
  firstHeartbeat?: number;
  failed?: { at: number; reason: string };
  services: Map<string, ServiceSeen>;
  missedAnnounced: boolean;
  destroying: Set<string>;
  /** The last launch failure (Note [Conditions]). */
  launchError?: { reason: string; message: string };
}

export type FailureHistory = {
  services: Record<string, { at: number; assembly: string }[]>;
  assemblies: Record<string, number[]>;
};

/** What the CPE keeps for the DPE across restarts (fenced by epoch). */
export interface SavedState {
  incarnations: Record<string, number>;
  history: FailureHistory;
  failedReason?: string;
  /** What failed for good, and why (Note [Recovery budgets]). */
  failure?: TerminalFailure;
}

export interface InstanceView {
  id: string;
  owner: string;
  state: InstanceState;
  addresses: string[];
  name: string | null;
}

/** The pieces every part of a DPE shares (see Note [DPE] in dpe.ts). */
export interface DpeContext {
  readonly d: DpeDeps;
  readonly deployableId: string;
  readonly epoch: number;
  readonly log: LoggerLike;
  now(): number;
  /** Saves the state in the CPE; halts the DPE when the CPE says its epoch is stale. */
  persist(): Promise<void>;
  requestReconcile(): void;
  /** Stops acting for good (stale epoch, deployable gone). */
  halt(reason: string): void;
  isStopped(): boolean;
}

export function ownerOf(deployableId: string, assembly: string, n: number): string {
  return `deployable:${deployableId}/${assembly}#${n}`;
}

export function parseOwner(owner: string): { deployableId: string; assembly: string; n: number } | undefined {
  const m = /^deployable:([^/]+)\/([^#]+)#(\d+)$/.exec(owner);
  return m ? { deployableId: m[1]!, assembly: m[2]!, n: Number(m[3]) } : undefined;
}

/** The agent's name of a service: `<home assembly>.<service>` (unique in the deployable). */
export const agentServiceName = (id: string) => id.replace('/', '.');
export const serviceIdOf = (agentName: string) => agentName.replace('.', '/');

export function newAssembly(name: string, n: number): AssemblyRt {
  return {
    name,
    incarnation: n,
    addresses: [],
    services: new Map(),
    missedAnnounced: false,
    launchFailures: 0,
    destroying: new Set(),
  };
}

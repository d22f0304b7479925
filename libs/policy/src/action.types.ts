/**
 * Output of the planners: a discriminated union of actions, each made of steps. Steps carry the
 * ordering dependencies (`after`), so that a move (stop here, start there) can interleave with
 * other actions exactly as Pacemaker's transition graph would; actions carry the explanation.
 */

/** The rung of the recovery ladder an action belongs to, when it is a recovery. */
export type RecoveryRung = 'restart-in-place' | 'move' | 'replace-assembly' | 'mark-failed';

interface ActionBase {
  /** Stable id within one plan (e.g. `move:web1/httpd`). */
  id: string;
  /** One line: why this action is needed. */
  explanation: string;
  /** Set when the action is a rung of the recovery ladder. */
  rung?: RecoveryRung;
  /** The steps that carry the action out, in their own order. */
  steps: PolicyStep[];
}

/** Start a stopped resource on `node`. */
export interface StartAction extends ActionBase {
  kind: 'start';
  resource: string;
  node: string;
}

/** Stop a resource on `node` (it will not run anywhere). */
export interface StopAction extends ActionBase {
  kind: 'stop';
  resource: string;
  node: string;
}

/** Stop then start a resource on the same `node` (failure recovery, or implied by an order). */
export interface RestartAction extends ActionBase {
  kind: 'restart';
  resource: string;
  node: string;
}

/** Stop a resource on `from`, then start it on `node`. */
export interface MoveAction extends ActionBase {
  kind: 'move';
  resource: string;
  node: string;
  from: string;
}

/** Restart or replace the instance of an assembly (node); what ran on it starts again after. */
export interface ReplaceAssemblyAction extends ActionBase {
  kind: 'replace-assembly';
  node: string;
  /**
   * True when this replacement is an assembly failure not yet in the failure history (it was
   * caused by a service's escalation): the DPE appends it to `history.assemblies[node]` when it
   * carries the replacement out.
   */
  recordsAssemblyFailure: boolean;
}

/** Give up: the deployable is failed. */
export interface MarkFailedAction extends ActionBase {
  kind: 'mark-failed';
  /** The assembly whose escalation limit was reached. */
  node: string;
}

export type PolicyAction =
  | StartAction
  | StopAction
  | RestartAction
  | MoveAction
  | ReplaceAssemblyAction
  | MarkFailedAction;

export type PolicyActionKind = PolicyAction['kind'];

/** One executable operation. */
export interface PolicyStep {
  /** Unique within a plan, e.g. `stop:db1/store@db1`. */
  id: string;
  op: 'start' | 'stop' | 'replace-assembly' | 'mark-failed';
  /** The resource (service) the step acts on; absent for assembly and deployable steps. */
  resource?: string;
  node: string;
  /** Ids of steps that must have completed before this one begins. */
  after: string[];
  /** Id of the action this step belongs to. */
  action: string;
}

/** A backend server to put behind a load balancer. */
export interface LoadBalancerMemberSpec {
  /** Unique in its pool; letters, digits, `_`, `.`, `:` and `-`. */
  name: string;
  /** IPv4, IPv6 or a host name. */
  address: string;
  port: number;
  /** Relative share of new connections (default: the balancer's default, 1 for HAProxy). */
  weight?: number;
}

/** Administrative state: takes new traffic (`ready`), finishes what it has (`drain`), or none (`maint`). */
export type LoadBalancerMemberState = 'ready' | 'drain' | 'maint';

export interface LoadBalancerMember {
  name: string;
  address: string;
  port: number;
  weight: number;
  state: LoadBalancerMemberState;
  /** The balancer considers it up (health checks passing, or unchecked and not in maintenance). */
  up: boolean;
  /** Sessions currently open to it. */
  sessions: number;
}

export interface DrainOptions {
  /** How long to wait for the member's sessions to end (default 30 s). */
  timeoutMs?: number;
}

export interface DrainResult {
  /** No session was left when the call returned. */
  drained: boolean;
  /** Sessions still open when the call returned. */
  sessions: number;
}

/**
 * A load balancer driver (ARCHITECTURE §4): pools (HAProxy backends) of members. Members join
 * when ready and drain before they are removed (§6). Failures are `DriverError`s
 * (`not-found` for an unknown pool or member, `conflict` for a name taken by another address).
 */
export interface LoadBalancerDriver {
  readonly kind: string;
  /** Adds a member taking traffic at once; adding the same name and address again is a no-op. */
  addMember(pool: string, member: LoadBalancerMemberSpec): Promise<LoadBalancerMember>;
  /** Drains the member (up to the timeout), cuts what sessions are left and removes it. */
  removeMember(pool: string, name: string, options?: DrainOptions): Promise<void>;
  /** Stops new traffic to the member and waits until its sessions end or the timeout passes. */
  drainMember(pool: string, name: string, options?: DrainOptions): Promise<DrainResult>;
  /** Puts a drained (or maintenance) member back into service. */
  readyMember(pool: string, name: string): Promise<void>;
  listMembers(pool: string): Promise<LoadBalancerMember[]>;
  close(): Promise<void>;
}

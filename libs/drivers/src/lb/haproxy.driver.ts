import { isIP } from 'node:net';
import { ConfigReader } from '../config.util';
import {
  ConflictError,
  DriverError,
  NotFoundError,
  PermanentDriverError,
  TransientDriverError,
} from '../driver.errors';
import { HaproxyRuntimeClient, type HaproxyRuntimeTarget } from './haproxy-runtime.client';
import type {
  DrainOptions,
  DrainResult,
  LoadBalancerDriver,
  LoadBalancerMember,
  LoadBalancerMemberSpec,
} from './load-balancer.types';

// Note [HAProxy members]
// Pools are HAProxy backends; members are dynamic servers added at run time through the Runtime
// API (HAProxy >= 2.4): `add server <backend>/<name> <addr>:<port>` registers it in maintenance,
// `enable server` puts it in service. Drain is `set server … state drain` (no new sessions except
// persistent ones); removal is drain → `state maint` → `shutdown sessions server` for stragglers →
// `del server` (refused while connections are attached, so it is retried briefly). State comes
// from `show servers state <backend>` (admin state bits, operational state, address, port,
// weight, check state and result) and open sessions from `show stat` (scur). With health checks a
// member counts as up only once a check completed (and HAProxy still runs it): HAProxy starts a
// new checked server running before its first check. Dynamic servers live in memory only: after
// an HAProxy reload the caller re-adds them (the scaler's convergence does that anyway).

/** srv_admin_state bits (HAProxy's SRV_ADMF_*). */
const ADMF_MAINT = 0x01 | 0x02 | 0x04 | 0x20 | 0x40; // forced, inherited, config, resolution, health-check maintenance
const ADMF_DRAIN = 0x08 | 0x10; // forced or inherited drain
/** srv_op_state value for a running server. */
const OP_RUNNING = 2;
/** srv_check_state bit of enabled health checks (CHK_ST_ENABLED). */
const CHK_ENABLED = 0x04;
/**
 * srv_check_status values up to HCHK_STATUS_CHECKED mean no check has completed yet (UNKNOWN,
 * INI, START); srv_check_result is no help, it reads UNKNOWN while any check is in progress.
 */
const HCHK_STATUS_CHECKED = 3;

const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
const HOST = /^[A-Za-z0-9.-]{1,253}$/;

export interface HaproxyDriverConfig {
  target: HaproxyRuntimeTarget;
  /** Runtime API timeout per command. */
  commandTimeoutMs: number;
  /** Default drain wait of drainMember/removeMember. */
  drainTimeoutMs: number;
  /** Add members with health checks (`check`), enabled at once. */
  healthCheck: boolean;
  /** Health check period, and checks in a row that bring a member up / down (HAProxy's inter, rise, fall). */
  check?: { interMs?: number; rise?: number; fall?: number };
  pollMs: number;
}

/** Reads a `haproxy` load balancer config: `{ socketPath } | { host, port }`, plus timeouts. */
export function parseHaproxyDriverConfig(config: unknown): HaproxyDriverConfig {
  const r = new ConfigReader('haproxy driver config', config);
  const socketPath = r.string('socketPath');
  const host = r.string('host');
  const port = r.number('port', 0, { min: 1, max: 65535, integer: true });
  if (!socketPath && !(host && port))
    r.problem('socketPath, or host and port, of the stats socket is required');
  const out: HaproxyDriverConfig = {
    target: socketPath ? { socketPath } : { host: host ?? '', port },
    commandTimeoutMs: r.number('commandTimeoutMs', 10_000, { min: 1 }),
    drainTimeoutMs: r.number('drainTimeoutMs', 30_000, { min: 0 }),
    healthCheck: r.boolean('healthCheck', false),
    pollMs: r.number('pollMs', 100, { min: 1 }),
  };
  const interMs = r.number('checkInterMs', 0, { min: 1, integer: true });
  const rise = r.number('checkRise', 0, { min: 1, integer: true });
  const fall = r.number('checkFall', 0, { min: 1, integer: true });
  if (interMs || rise || fall) {
    out.check = { ...(interMs ? { interMs } : {}), ...(rise ? { rise } : {}), ...(fall ? { fall } : {}) };
  }
  r.done();
  return out;
}

function checkName(kind: string, name: string): void {
  if (!NAME.test(name))
    throw new PermanentDriverError(`invalid ${kind} name ${JSON.stringify(name)} (letters, digits, _ . : -)`);
}

/** Drives a real HAProxy through its Runtime API (see Note [HAProxy members]). */
export class HaproxyDriver implements LoadBalancerDriver {
  readonly kind = 'haproxy';
  readonly client: HaproxyRuntimeClient;

  constructor(readonly config: HaproxyDriverConfig) {
    this.client = new HaproxyRuntimeClient(config.target, config.commandTimeoutMs);
  }

  async addMember(pool: string, member: LoadBalancerMemberSpec): Promise<LoadBalancerMember> {
    checkName('pool', pool);
    checkName('member', member.name);
    const ipVersion = isIP(member.address);
    if (!ipVersion && !HOST.test(member.address))
      throw new PermanentDriverError(`invalid member address ${JSON.stringify(member.address)}`);
    if (!Number.isInteger(member.port) || member.port < 1 || member.port > 65535)
      throw new PermanentDriverError(`invalid member port ${member.port}`);
    if (
      member.weight !== undefined &&
      (!Number.isInteger(member.weight) || member.weight < 0 || member.weight > 256)
    ) {
      throw new PermanentDriverError(`invalid member weight ${member.weight} (0..256)`);
    }
    const existing = (await this.listMembers(pool)).find((m) => m.name === member.name);
    if (existing) {
      if (existing.port !== member.port || (ipVersion && existing.address !== member.address)) {
        throw new ConflictError(
          `member ${pool}/${member.name} exists at ${existing.address}:${existing.port}`,
        );
      }
      return existing;
    }
    const addr = ipVersion === 6 ? `[${member.address}]` : member.address;
    const args = [`add server ${pool}/${member.name} ${addr}:${member.port}`];
    if (member.weight !== undefined) args.push(`weight ${member.weight}`);
    if (this.config.healthCheck) {
      args.push('check');
      const c = this.config.check;
      if (c?.interMs) args.push(`inter ${c.interMs}`);
      if (c?.rise) args.push(`rise ${c.rise}`);
      if (c?.fall) args.push(`fall ${c.fall}`);
    }
    const out = await this.client.command(args.join(' '));
    if (!/New server registered/.test(out)) {
      if (/Already exists/.test(out))
        throw new ConflictError(`member ${pool}/${member.name} already exists: ${out}`);
      throw this.failure(`add server ${pool}/${member.name}`, out);
    }
    if (this.config.healthCheck) await this.expectEmpty(`enable health ${pool}/${member.name}`);
    await this.expectEmpty(`enable server ${pool}/${member.name}`);
    return this.requireMember(pool, member.name);
  }

  async drainMember(pool: string, name: string, options: DrainOptions = {}): Promise<DrainResult> {
    checkName('pool', pool);
    checkName('member', name);
    await this.expectEmpty(`set server ${pool}/${name} state drain`);
    return this.waitSessions(pool, name, options.timeoutMs ?? this.config.drainTimeoutMs);
  }

  async readyMember(pool: string, name: string): Promise<void> {
    checkName('pool', pool);
    checkName('member', name);
    await this.expectEmpty(`set server ${pool}/${name} state ready`);
  }

  async removeMember(pool: string, name: string, options: DrainOptions = {}): Promise<void> {
    const member = (await this.listMembers(pool)).find((m) => m.name === name);
    if (!member) throw new NotFoundError(`no member ${pool}/${name}`);
    if (member.state === 'ready') await this.drainMember(pool, name, options);
    await this.expectEmpty(`set server ${pool}/${name} state maint`);
    const left = await this.sessions(pool, name);
    if (left > 0) {
      await this.expectEmpty(`shutdown sessions server ${pool}/${name}`);
      await this.waitSessions(pool, name, this.config.commandTimeoutMs);
    }
    // Connections still attached (being torn down) make `del server` refuse for a moment.
    const deadline = Date.now() + this.config.commandTimeoutMs;
    for (;;) {
      const out = await this.client.command(`del server ${pool}/${name}`);
      if (/Server deleted/.test(out)) return;
      if (/No such server/.test(out)) return;
      if (!/connections|still/i.test(out) || Date.now() > deadline)
        throw this.failure(`del server ${pool}/${name}`, out);
      await new Promise((r) => setTimeout(r, this.config.pollMs));
    }
  }

  async listMembers(pool: string): Promise<LoadBalancerMember[]> {
    checkName('pool', pool);
    const out = await this.client.command(`show servers state ${pool}`);
    if (/Can't find backend|No such backend/.test(out)) throw new NotFoundError(`no pool (backend) ${pool}`);
    const lines = out.split('\n');
    const header = lines.find((l) => l.startsWith('# '));
    if (!header) throw this.failure(`show servers state ${pool}`, out);
    const cols = header.slice(2).split(' ');
    const col = (name: string) => {
      const i = cols.indexOf(name);
      if (i < 0) throw new PermanentDriverError(`show servers state has no column ${name}`);
      return i;
    };
    const [iName, iAddr, iPort, iOp, iAdmin, iWeight, iBackend, iChkState, iChkStatus] = [
      col('srv_name'),
      col('srv_addr'),
      col('srv_port'),
      col('srv_op_state'),
      col('srv_admin_state'),
      col('srv_uweight'),
      col('be_name'),
      col('srv_check_state'),
      col('srv_check_status'),
    ];
    const sessions = await this.sessionsByServer(pool);
    const members: LoadBalancerMember[] = [];
    for (const line of lines) {
      if (!line || line.startsWith('#') || !line.includes(' ')) continue;
      const f = line.split(' ');
      if (f[iBackend] !== pool) continue;
      const admin = Number(f[iAdmin]);
      const name = f[iName]!;
      members.push({
        name,
        address: f[iAddr]!,
        port: Number(f[iPort]),
        weight: Number(f[iWeight]),
        state: admin & ADMF_MAINT ? 'maint' : admin & ADMF_DRAIN ? 'drain' : 'ready',
        // A checked member is up once a check completed (HAProxy starts it running, unchecked)
        // and HAProxy still has it running (a failing one goes down after `fall` checks).
        up:
          Number(f[iOp]) === OP_RUNNING &&
          (!(Number(f[iChkState]) & CHK_ENABLED) || Number(f[iChkStatus]) > HCHK_STATUS_CHECKED),
        sessions: sessions.get(name) ?? 0,
      });
    }
    return members;
  }

  async close(): Promise<void> {
    // One connection per command: nothing stays open.
  }

  // --- internals ----------------------------------------------------------------------

  private async requireMember(pool: string, name: string): Promise<LoadBalancerMember> {
    const m = (await this.listMembers(pool)).find((x) => x.name === name);
    if (!m) throw new NotFoundError(`no member ${pool}/${name}`);
    return m;
  }

  /** Current sessions (scur) per server of a backend, from `show stat` (servers only). */
  private async sessionsByServer(pool: string): Promise<Map<string, number>> {
    const out = await this.client.command('show stat -1 4 -1');
    const lines = out.split('\n');
    const header = lines[0]?.replace(/^# /, '').split(',') ?? [];
    const [px, sv, scur] = ['pxname', 'svname', 'scur'].map((c) => header.indexOf(c));
    const map = new Map<string, number>();
    if (px === undefined || px < 0 || sv! < 0 || scur! < 0)
      throw this.failure('show stat', out.slice(0, 200));
    for (const line of lines.slice(1)) {
      const f = line.split(',');
      if (f[px] === pool) map.set(f[sv!]!, Number(f[scur!]) || 0);
    }
    return map;
  }

  private async sessions(pool: string, name: string): Promise<number> {
    return (await this.sessionsByServer(pool)).get(name) ?? 0;
  }

  private async waitSessions(pool: string, name: string, timeoutMs: number): Promise<DrainResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const sessions = await this.sessions(pool, name);
      if (sessions === 0) return { drained: true, sessions };
      if (Date.now() >= deadline) return { drained: false, sessions };
      await new Promise((r) => setTimeout(r, this.config.pollMs));
    }
  }

  /** Commands that answer nothing on success. */
  private async expectEmpty(cmd: string): Promise<void> {
    const out = await this.client.command(cmd);
    if (out.trim()) throw this.failure(cmd, out);
  }

  private failure(cmd: string, out: string): DriverError {
    const msg = `haproxy: ${cmd}: ${out.trim().split('\n')[0]}`;
    if (/No such (server|backend)|Can't find backend/.test(out)) return new NotFoundError(msg);
    if (/Already exists/.test(out)) return new ConflictError(msg);
    if (/Permission denied|Unknown command/.test(out)) return new PermanentDriverError(msg);
    if (/connections|still/i.test(out)) return new ConflictError(msg);
    return new TransientDriverError(msg);
  }
}

/** A load balancer driver of `kind` (built-in: `haproxy`). */
export function createLoadBalancerDriver(kind: string, config: unknown): LoadBalancerDriver {
  switch (kind) {
    case 'haproxy':
      return new HaproxyDriver(parseHaproxyDriverConfig(config));
    default:
      throw new PermanentDriverError(`unknown load balancer kind ${kind} (known: haproxy)`, {
        code: 'UnknownDriverKind',
      });
  }
}

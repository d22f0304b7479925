import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  AgentCommandRefused,
  AgentHeartbeat,
  AgentServiceStatus,
  parseAgentCommand,
  verifyAgentMessage,
} from '@nephele/contracts';
import { failureCause } from '../services/failure-cause.util';
import { MonitorReport, ServiceSupervisor } from './service-supervisor';

export type CommandResult = AgentServiceStatus | AgentCommandRefused;

export interface AgentIdentity {
  assemblyId: string;
  deployableId: string;
}

/** Results kept for repeated request ids. */
const REMEMBERED_REQUESTS = 1000;
/** A signed command older than this is refused (a replay of a command no longer remembered). */
const COMMAND_MAX_AGE_MS = 15 * 60_000;

// Note [Fencing]
// Every command carries the epoch of the DPE that sent it; a DPE restart takes a new, higher
// epoch. The agent keeps the highest epoch it has accepted and refuses anything lower, so a stale
// DPE (one the CPE has replaced but that is still running somewhere) cannot act on this assembly.
// With NEPHELE_AGENT_STATE_DIR the highest epoch survives agent restarts; without it an agent
// restart forgets it (the next command from the current DPE sets it again). A refusal is a reply
// like any result (`command-refused`, with the highest epoch), never silence. Commands are
// idempotent by requestId: the first result (or refusal) is remembered and sent again for a
// repeated id, and a repeat that arrives while the first is still running waits for it.
//
// With a credential (Note [Agent identity] in @nephele/contracts), a command runs only when it is
// signed with it: only the DPE, which derives it from the deployable's key, can do that, so nobody
// else can start anything here or raise the epoch (which would fence the real DPE out).
export class AgentService {
  private highest = 0;
  private readonly results = new Map<string, Promise<CommandResult>>();

  constructor(
    private readonly identity: AgentIdentity,
    private readonly supervisor: ServiceSupervisor,
    private readonly stateDir?: string,
    private readonly now: () => Date = () => new Date(),
    /** This assembly's credential: commands must be signed with it. */
    private readonly credential?: string,
  ) {}

  get highestEpoch(): number {
    return this.highest;
  }

  /** Loads the highest epoch kept by an earlier run of this agent. */
  async restore(): Promise<void> {
    if (!this.stateDir) return;
    try {
      const raw = JSON.parse(await readFile(path.join(this.stateDir, 'agent-state.json'), 'utf8')) as {
        highestEpoch?: unknown;
      };
      if (Number.isInteger(raw.highestEpoch) && (raw.highestEpoch as number) >= 0) {
        this.highest = raw.highestEpoch as number;
      }
    } catch {
      /* first run, or unreadable: start from 0 */
    }
  }

  private async persist(): Promise<void> {
    if (!this.stateDir) return;
    await mkdir(this.stateDir, { recursive: true });
    const file = path.join(this.stateDir, 'agent-state.json');
    await writeFile(`${file}.tmp`, JSON.stringify({ highestEpoch: this.highest }));
    await rename(`${file}.tmp`, file);
  }

  /** Handles one command body as received. Never throws: bad input becomes a refusal. */
  handle(body: unknown): Promise<CommandResult> {
    const parsed = parseAgentCommand(body);
    const rawId = (body as { requestId?: unknown } | null)?.requestId;
    const requestId = typeof rawId === 'string' && rawId.length <= 200 ? rawId : undefined;
    if (!parsed.ok) {
      return Promise.resolve(
        this.refusal({
          requestId,
          reason: `invalid command: ${parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`.slice(
            0,
            2000,
          ),
          errors: parsed.errors.slice(0, 50),
        }),
      );
    }
    const cmd = parsed.value;
    if (this.credential && !verifyAgentMessage(this.credential, body)) {
      // Not remembered: a forgery must not poison the real command's request id.
      return Promise.resolve(
        this.refusal({ requestId: cmd.requestId, reason: "refused: not signed by this assembly's DPE" }),
      );
    }
    const issued = cmd.issuedAt ? Date.parse(cmd.issuedAt) : undefined;
    if (
      this.credential &&
      issued !== undefined &&
      Math.abs(this.now().getTime() - issued) > COMMAND_MAX_AGE_MS
    ) {
      return Promise.resolve(
        this.refusal({
          requestId: cmd.requestId,
          reason: `refused: issued at ${cmd.issuedAt}, too old (a replay?)`,
        }),
      );
    }
    const earlier = this.results.get(cmd.requestId);
    if (earlier) return earlier;
    let result: Promise<CommandResult>;
    if (cmd.epoch < this.highest) {
      result = Promise.resolve(
        this.refusal({
          requestId: cmd.requestId,
          epoch: cmd.epoch,
          reason: `stale epoch ${cmd.epoch}: this agent already follows epoch ${this.highest}`,
        }),
      );
    } else {
      const raised = cmd.epoch > this.highest;
      this.highest = cmd.epoch;
      result = (raised ? this.persist().catch(() => undefined) : Promise.resolve())
        .then(() => this.supervisor.run(cmd.action, cmd.service))
        .then((r): AgentServiceStatus => ({
          kind: 'service-status',
          ...this.identity,
          service: cmd.service.name,
          state: r.state,
          reason: r.reason.slice(0, 2000),
          ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
          ...(r.state === 'failed' ? { cause: failureCause(cmd.action, r) } : {}),
          epoch: cmd.epoch,
          requestId: cmd.requestId,
          action: cmd.action,
          at: this.now().toISOString(),
        }));
    }
    this.remember(cmd.requestId, result);
    return result;
  }

  private remember(requestId: string, result: Promise<CommandResult>): void {
    this.results.set(requestId, result);
    while (this.results.size > REMEMBERED_REQUESTS) {
      this.results.delete(this.results.keys().next().value!);
    }
  }

  private refusal(
    r: Pick<AgentCommandRefused, 'reason'> & Partial<AgentCommandRefused>,
  ): AgentCommandRefused {
    return { kind: 'command-refused', ...this.identity, highestEpoch: this.highest, ...r };
  }

  /** A service-status for a monitor finding (no requestId, no epoch). */
  report(r: MonitorReport): AgentServiceStatus {
    return {
      kind: 'service-status',
      ...this.identity,
      service: r.service,
      state: r.state,
      reason: r.reason.slice(0, 2000),
      ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
      ...(r.state === 'failed' ? { cause: failureCause('monitor', r) } : {}),
      action: 'monitor',
      at: this.now().toISOString(),
    };
  }

  heartbeat(seq: number): AgentHeartbeat {
    return {
      kind: 'heartbeat',
      ...this.identity,
      seq,
      sentAt: this.now().toISOString(),
      services: this.supervisor.states(),
      epoch: this.highest,
    };
  }
}

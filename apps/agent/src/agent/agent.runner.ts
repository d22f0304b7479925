import { EdgeConnection, EdgeMessage, EdgeOutcome, EdgeOutcomes, LoggerLike } from '@nephele/bus';
import { AgentAddresses, AgentEvent, AgentProperties, signAgentMessage } from '@nephele/contracts';
import { AgentIdentity, AgentService } from './agent.service';
import { ServiceSupervisor } from './service-supervisor';

/** Reports waiting for the edge while it is down (older ones are dropped first). */
const MAX_PENDING_REPORTS = 200;

// Note [Agent over the edge]
// The edge adapter of the agent: commands arrive on nephele.agent.<assemblyId>, results and
// monitor findings leave for nephele.agent.events.<deployableId> (see Note [Agent protocol] in
// @nephele/contracts). Heartbeats are transient (TTL three intervals) and only sent while
// connected: a missed heartbeat is information for the DPE. Monitor findings are not transient:
// one that cannot be sent waits (bounded) and is sent on reconnect, followed by a heartbeat that
// carries the current state of every service. Services keep running while the edge is down.
export class AgentRunner {
  private seq = 0;
  private heartbeatTimer?: NodeJS.Timeout;
  private heartbeatInFlight = false;
  private readonly pending: AgentEvent[] = [];
  private flushing = false;
  private stopped = false;

  constructor(
    private readonly identity: AgentIdentity,
    private readonly edge: EdgeConnection,
    private readonly agent: AgentService,
    private readonly supervisor: ServiceSupervisor,
    private readonly heartbeatIntervalMs: number,
    private readonly log: LoggerLike,
    /** This assembly's credential: every message it sends is signed with it (Note [Agent identity]). */
    private readonly credential?: string,
  ) {}

  private signed<T extends object>(body: T): T {
    return this.credential ? signAgentMessage(this.credential, body) : body;
  }

  private get eventsAddress(): string {
    return AgentAddresses.events(this.identity.deployableId);
  }

  private properties(kind: string) {
    return {
      [AgentProperties.kind]: kind,
      [AgentProperties.assembly]: this.identity.assemblyId,
      [AgentProperties.deployable]: this.identity.deployableId,
    };
  }

  /** Wires everything and connects (resolves once the edge is connected the first time). */
  async start(): Promise<void> {
    this.supervisor.onReport((r) => {
      const status = this.agent.report(r);
      this.log.warn({ service: r.service, state: r.state, reason: r.reason }, 'service state changed');
      this.queue(status);
    });
    this.edge.onConnected(() => {
      this.log.info({ assemblyId: this.identity.assemblyId }, 'agent connected to the edge');
      void this.flush().then(() => this.sendHeartbeat());
    });
    await this.edge.receive(AgentAddresses.commands(this.identity.assemblyId), (m) => this.onCommand(m), {
      prefetch: 16,
    });
    this.heartbeatTimer = setInterval(() => void this.sendHeartbeat(), this.heartbeatIntervalMs);
    await this.edge.start();
  }

  private async onCommand(msg: EdgeMessage): Promise<EdgeOutcome> {
    const result = await this.agent.handle(msg.body);
    if (result.kind === 'command-refused') {
      this.log.warn({ requestId: result.requestId, reason: result.reason }, 'command refused');
    } else {
      this.log.info(
        { requestId: result.requestId, action: result.action, service: result.service, state: result.state },
        'command done',
      );
    }
    if (msg.replyTo) {
      try {
        await this.edge.send(msg.replyTo, this.signed(result), {
          correlationId: msg.correlationId ?? msg.messageId,
          applicationProperties: this.properties(result.kind),
        });
      } catch (e) {
        // Redelivery repeats the same requestId: the remembered result is sent again then.
        this.log.warn({ err: (e as Error).message }, 'cannot reply to a command');
        if (!this.edge.isConnected()) return EdgeOutcomes.release();
      }
    } else {
      this.queue(result);
    }
    return EdgeOutcomes.accept();
  }

  private queue(event: AgentEvent): void {
    this.pending.push(event);
    if (this.pending.length > MAX_PENDING_REPORTS) this.pending.shift();
    void this.flush();
  }

  /** Sends waiting reports in order; stops at the first failure (the next connection retries). */
  private async flush(): Promise<void> {
    if (this.flushing || this.stopped) return;
    this.flushing = true;
    try {
      while (this.pending.length && this.edge.isConnected()) {
        const event = this.pending[0]!;
        try {
          await this.edge.send(this.eventsAddress, this.signed(event), {
            applicationProperties: this.properties(event.kind),
          });
          this.pending.shift();
        } catch (e) {
          this.log.warn({ err: (e as Error).message }, 'cannot send a report; will retry on reconnect');
          break;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async sendHeartbeat(): Promise<void> {
    if (this.stopped || this.heartbeatInFlight || !this.edge.isConnected()) return;
    this.heartbeatInFlight = true;
    try {
      const hb = this.agent.heartbeat(this.seq++);
      await this.edge.send(this.eventsAddress, this.signed(hb), {
        ttlMs: this.heartbeatIntervalMs * 3,
        durable: false,
        applicationProperties: this.properties('heartbeat'),
      });
    } catch (e) {
      this.log.debug({ err: (e as Error).message }, 'heartbeat not sent');
    } finally {
      this.heartbeatInFlight = false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    this.supervisor.close();
  }
}

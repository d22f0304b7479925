import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { EntityManager } from 'typeorm';
import { enqueueEvents, OutboxRelay } from '@nephele/bus';
import { createEvent, WebhookDelivered, WebhookDeliveredData } from '@nephele/contracts';
import { SealedSecret, SecretBox } from '@nephele/crypto';
import { AppLogger, counter } from '@nephele/observability';
import { CLOCK, Clock, LOGGER, METRICS } from '@nephele/service-kit';
import { backoffDelay, PollingLoop } from '@nephele/util';
import { Counter, Registry } from 'prom-client';
import { ScalerConfig } from '../config/env';
import { SCALER_SCHEMA, SERVICE } from '../data-source';
import { ServerRow } from '../state/servers.repository';
import { GroupRow } from '../state/group.types';
import { SCALER_CONFIG, SCALER_OUTBOX } from '../scaler.tokens';
import { DeliveriesRepository, DeliveryRow } from './deliveries.repository';
import { resolveTarget } from '@nephele/service-kit';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signature.util';

// Note [Customer webhooks]
// When a server is ready (active and in every balancer of the launch config) the converger writes
// a delivery row in the same transaction that marks the server notified, so a ready server gets
// exactly one delivery, even across restarts. A loop on every replica claims due deliveries with a
// lease, POSTs the signed JSON (see signature.util.ts) to the checked address (ssrf.util.ts),
// and records the attempt with its `nephele.webhook.delivered` event in one transaction. A
// non-2xx answer, a timeout or a refused address is retried with exponential backoff until
// SCALER_WEBHOOK_RETRY_FOR_MS after the first attempt; then the delivery is `failed`.

export const secretRecordId = (groupId: string) => `scaler-group-webhook:${groupId}`;

@Injectable()
export class DeliveriesService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop = new PollingLoop(() => this.pass(), { idleMs: 1000 });
  private readonly box?: SecretBox;
  private readonly attempts: Counter;

  constructor(
    private readonly repo: DeliveriesRepository,
    @Inject(SCALER_OUTBOX) private readonly outbox: OutboxRelay,
    @Inject(SCALER_CONFIG) private readonly config: ScalerConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: AppLogger,
    @Inject(METRICS) metrics: Registry,
  ) {
    this.box = config.masterKey ? new SecretBox(config.masterKey) : undefined;
    this.attempts = counter(metrics, 'nephele_scaler_webhook_attempts_total', 'Customer webhook attempts', [
      'ok',
    ]);
  }

  /** Whether secrets can be stored (a master key is configured). */
  canSeal(): boolean {
    return this.box !== undefined;
  }

  seal(groupId: string, secret: string): SealedSecret {
    if (!this.box) throw new Error('NEPHELE_MASTER_KEY is not set');
    return this.box.seal(secretRecordId(groupId), secret);
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** Records a delivery for a ready server inside the caller's transaction. */
  async enqueue(tx: EntityManager, group: GroupRow, server: ServerRow): Promise<void> {
    if (!group.ready_webhook) return;
    const now = this.clock.now();
    await this.repo.insert(tx, {
      id: randomUUID(),
      groupId: group.id,
      serverId: server.id,
      url: group.ready_webhook.url,
      secret: group.ready_webhook.secret,
      payload: {
        event: 'server.ready',
        groupId: group.id,
        groupName: group.name,
        serverId: server.id,
        instanceId: server.instance_id,
        addresses: server.addresses,
        readyAt: now.toISOString(),
      },
      giveUpAt: new Date(now.getTime() + this.config.webhooks.retryForMs),
    });
  }

  nudge(): void {
    this.loop.nudge();
  }

  /** One pass (see Note [Polling loops]): attempt every due delivery; returns when to look again. */
  private async pass(): Promise<number> {
    let delay = 1000;
    try {
      for (;;) {
        const due = await this.repo.claim(8, this.config.webhooks.timeoutMs * 2 + 5000);
        if (!due.length) break;
        await Promise.all(due.map((d) => this.attempt(d)));
      }
      const next = await this.repo.nextDue();
      if (next) delay = Math.max(0, Math.min(delay, next.getTime() - Date.now()));
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'webhook delivery loop failed; will retry');
    }
    return delay;
  }

  private async attempt(d: DeliveryRow): Promise<void> {
    const attempt = d.attempts + 1;
    let status: number | undefined;
    let error: string | undefined;
    try {
      if (!this.box || !d.secret)
        throw new Error('no signing secret available (NEPHELE_MASTER_KEY missing?)');
      const secret = this.box.open<string>(secretRecordId(d.group_id), d.secret as SealedSecret);
      status = await this.post(d, secret, attempt);
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (e) {
      error = (e as Error).message.slice(0, 500);
    }
    const ok = error === undefined;
    this.attempts.inc({ ok: String(ok) });
    const now = this.clock.now();
    const nextAt = new Date(
      now.getTime() + backoffDelay(attempt - 1, this.config.webhooks.retryBaseMs, 300_000),
    );
    const next = ok
      ? { status: 'delivered' as const }
      : nextAt.getTime() > new Date(d.give_up_at).getTime()
        ? { status: 'failed' as const }
        : { status: 'pending' as const, at: nextAt };
    const data: WebhookDeliveredData = {
      webhookId: d.id,
      groupId: d.group_id,
      serverId: d.server_id,
      attempt,
      ok,
    };
    if (status !== undefined) data.status = status;
    if (error !== undefined) data.error = error;
    await this.repo.transaction(async (tx) => {
      await this.repo.recordAttempt(tx, d.id, { attempt, status, ok, error }, next);
      await enqueueEvents(tx, SCALER_SCHEMA, [
        createEvent(SERVICE, WebhookDelivered.type, data, { subject: d.id, project: d.project }),
      ]);
    });
    this.outbox.nudge();
    if (!ok)
      this.log.info(
        { deliveryId: d.id, attempt, error, next: next.status },
        'customer webhook attempt failed',
      );
  }

  /** POSTs the payload to the checked address; resolves with the HTTP status (redirects are not followed). */
  private async post(d: DeliveryRow, secret: string, attempt: number): Promise<number> {
    const target = await resolveTarget(d.url, this.config.webhooks.allowPrivate);
    const body = JSON.stringify(d.payload);
    const ts = Math.floor(this.clock.now().getTime() / 1000);
    const https = target.url.protocol === 'https:';
    const request = https ? httpsRequest : httpRequest;
    return new Promise<number>((resolve, reject) => {
      const req = request(
        target.url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'nephele-scaler',
            [TIMESTAMP_HEADER]: String(ts),
            [SIGNATURE_HEADER]: signWebhook(secret, ts, body),
            'x-nephele-delivery': d.id,
            'x-nephele-attempt': String(attempt),
          },
          // Connect to the address that was checked, never to a second DNS answer.
          lookup: (_host, opts, cb) => {
            if ((opts as { all?: boolean }).all) {
              (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
                { address: target.address, family: target.family },
              ]);
            } else cb(null, target.address, target.family);
          },
          timeout: this.config.webhooks.timeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`no answer within ${this.config.webhooks.timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

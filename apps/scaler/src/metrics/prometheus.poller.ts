import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AppLogger } from '@nephele/observability';
import { CLOCK, Clock, LOGGER } from '@nephele/service-kit';
import { PollingLoop } from '@nephele/util';
import { ScalerConfig } from '../config/env';
import { resolveTarget } from '../notifications/ssrf.util';
import { SCALER_CONFIG } from '../scaler.tokens';
import { MetricsRepository } from './metrics.repository';
import { TargetTrackingService } from './target-tracking.service';

const MAX_BODY = 1 << 20;

/**
 * The value of a Prometheus instant-query answer: a scalar, or the first sample of a vector.
 * Undefined when the answer holds no sample (an empty vector: no data, nothing to decide on).
 */
export function prometheusValue(body: unknown): number | undefined {
  const b = body as { status?: string; data?: { resultType?: string; result?: unknown } };
  if (b?.status !== 'success' || !b.data) throw new Error('not a successful Prometheus query answer');
  const { resultType, result } = b.data;
  let raw: unknown;
  if (resultType === 'scalar') raw = (result as unknown[])?.[1];
  else if (resultType === 'vector') {
    const first = (result as { value?: unknown[] }[])[0];
    if (!first) return undefined;
    raw = first.value?.[1];
  } else throw new Error(`unsupported resultType ${String(resultType)} (use an instant query)`);
  const v = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(v))
    throw new Error(`sample value ${String(raw)} is not a number`);
  return v;
}

// Note [Prometheus sources]
// A group may name, per metric, a Prometheus instant-query URL. Every replica polls the sources
// it sees (a duplicate poll only rewrites the same latest value). The URL's host is resolved and
// checked like a customer webhook's (no private addresses unless SCALER_WEBHOOK_ALLOW_PRIVATE),
// and the request goes to the address that was checked; redirects are not followed; the answer
// is bounded in size and time. A failed poll is logged and leaves the last value to age out
// (SCALER_METRIC_MAX_AGE_MS), after which target tracking decides nothing.

@Injectable()
export class PrometheusPoller implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop = new PollingLoop(() => this.pass(), { idleMs: 1000 });
  private readonly next = new Map<string, number>();

  constructor(
    private readonly repo: MetricsRepository,
    private readonly tracking: TargetTrackingService,
    @Inject(SCALER_CONFIG) private readonly config: ScalerConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: AppLogger,
  ) {}

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  private async pass(): Promise<number> {
    const groups = await this.repo.sources().catch(() => []);
    const now = this.clock.now().getTime();
    const polls: Promise<void>[] = [];
    for (const g of groups) {
      for (const s of g.metric_sources) {
        const key = `${g.id}\u0000${s.metric}\u0000${s.prometheusQueryUrl}`;
        if ((this.next.get(key) ?? 0) > now) continue;
        this.next.set(key, now + s.interval * 1000);
        polls.push(this.poll(g.id, s.metric, s.prometheusQueryUrl));
      }
    }
    await Promise.all(polls);
    return 1000;
  }

  private async poll(groupId: string, metric: string, url: string): Promise<void> {
    try {
      const value = prometheusValue(await this.getJson(url));
      if (value === undefined) return;
      await this.repo.observe(groupId, metric, value, this.clock.now(), 'prometheus');
      this.tracking.nudge();
    } catch (e) {
      this.log.warn({ groupId, metric, err: (e as Error).message }, 'Prometheus poll failed');
    }
  }

  private async getJson(raw: string): Promise<unknown> {
    const target = await resolveTarget(raw, this.config.webhooks.allowPrivate);
    const timeout = this.config.webhooks.timeoutMs;
    const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        target.url,
        {
          method: 'GET',
          headers: { accept: 'application/json', 'user-agent': 'nephele-scaler' },
          // Connect to the address that was checked, never to a second DNS answer.
          lookup: (_host, opts, cb) => {
            if ((opts as { all?: boolean }).all) {
              (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
                { address: target.address, family: target.family },
              ]);
            } else cb(null, target.address, target.family);
          },
          timeout,
        },
        (res) => {
          if ((res.statusCode ?? 0) !== 200) {
            res.resume();
            reject(new Error(`Prometheus answered ${res.statusCode}`));
            return;
          }
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
            if (body.length > MAX_BODY) req.destroy(new Error('answer larger than 1 MiB'));
          });
          res.on('end', () => {
            try {
              resolve(JSON.parse(body));
            } catch {
              reject(new Error('answer is not JSON'));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeout} ms`)));
      req.on('error', reject);
      req.end();
    });
  }
}

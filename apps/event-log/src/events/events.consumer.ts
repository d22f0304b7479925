import { Inject } from '@nestjs/common';
import { HandlerOutcome, LoggerLike, Outcome } from '@nephele/bus';
import { CloudEvent, Topology, findMessageDefinition } from '@nephele/contracts';
import { AppLogger, counter } from '@nephele/observability';
import { BusBatch, BusConsumer, BusQueueTuning, EventPattern, LOGGER, METRICS } from '@nephele/service-kit';
import { Registry } from 'prom-client';
import { EVENT_LOG_CONFIG } from '../event-log.tokens';
import { EventLogConfig } from '../config/env';
import { EventsNotifier } from './events.notifier';
import { EventsRepository } from './events.repository';

/**
 * Stores every event of `nephele.events`: batches of up to EVENT_LOG_BATCH_SIZE in one INSERT,
 * acknowledged only after the commit. The bus checks each envelope first (a malformed message is
 * dead-lettered with its reason before it gets here).
 */
@BusConsumer()
export class EventsConsumer {
  private readonly stored;
  private readonly log: LoggerLike;

  constructor(
    private readonly repo: EventsRepository,
    private readonly notifier: EventsNotifier,
    @Inject(EVENT_LOG_CONFIG) private readonly config: EventLogConfig,
    @Inject(LOGGER) log: AppLogger,
    @Inject(METRICS) metrics: Registry,
    tuning: BusQueueTuning,
  ) {
    this.log = log;
    this.stored = counter(metrics, 'nephele_event_log_stored_total', 'Events stored by the event log');
    tuning.set(Topology.queues.eventLog, {
      batch: { size: config.batchSize, maxWaitMs: config.batchWaitMs },
      // Room for batches filling while earlier ones are being inserted.
      prefetch: config.batchSize * 4,
    });
  }

  /**
   * Every CloudEvent (the log is a sink: the bus checks envelopes, the owners of each type check
   * data), in batches.
   */
  @EventPattern('#', { queue: Topology.queues.eventLog })
  async storeBatch(items: BusBatch): Promise<HandlerOutcome[]> {
    return this.store(items);
  }

  /** Stores each event as the JSON it arrived in (`json`), not serialised again. */
  async store(items: { event: CloudEvent; json: string }[]): Promise<HandlerOutcome[]> {
    const keep = this.config.storeTransient
      ? items
      : items.filter((i) => !findMessageDefinition(i.event.type)?.transient);
    try {
      this.stored.inc(await this.insert(keep));
      return items.map(() => Outcome.ack());
    } catch (e) {
      if (!isDataError(e)) {
        this.log.warn(
          { err: (e as Error).message, count: items.length },
          'storing a batch failed; will retry',
        );
        return items.map(() => Outcome.retry(1000, (e as Error).message));
      }
    }
    // One event in the batch is refused by the database: find it, store the others.
    const outcomes: HandlerOutcome[] = [];
    for (const item of items) {
      try {
        if (keep.includes(item)) this.stored.inc(await this.insert([item]));
        outcomes.push(Outcome.ack());
      } catch (e) {
        outcomes.push(
          isDataError(e)
            ? Outcome.deadLetter(`refused by the database: ${(e as Error).message}`)
            : Outcome.retry(1000, (e as Error).message),
        );
      }
    }
    return outcomes;
  }

  private async insert(items: { event: CloudEvent; json: string }[]): Promise<number> {
    const r = await this.repo.insertBatch(
      items.map((i) => i.event),
      items.map((i) => i.json),
    );
    if (r.maxSeq) this.notifier.committed(r.maxSeq);
    return r.stored;
  }
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the data is at fault, not the database. */
function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

import { Inject, Injectable } from '@nestjs/common';
import { Bus } from '@nephele/bus';
import { CloudEvent } from '@nephele/contracts';
import { outgoingTraceparent } from '@nephele/observability';
import { BUS, Page, ProblemException, decodeCursor, encodeCursor, parseLimit } from '@nephele/service-kit';
import { EventFilter, EventsRepository, StoredEvent } from './events.repository';
import { EventsNotifier } from './events.notifier';
import { QueryEventsDto } from './dto/query-events.dto';

// Note [Durable acceptance]
// `POST /v1/events` answers 202 only once the events cannot be lost. Through RabbitMQ that is the
// broker's publisher confirm: the messages are persistent and the event log's queue is durable.
// The in-memory bus (the all-in-one) holds messages in the process, so there the events are first
// inserted into the log itself, then published for the other consumers; the log's own consumer
// meets them again and skips them by identity (see Note [Event identity]). Content the store would
// refuse (NUL, unpaired surrogates) is a 400 here, never a dead letter later.

@Injectable()
export class EventsService {
  constructor(
    private readonly repo: EventsRepository,
    @Inject(BUS) private readonly bus: Bus,
    private readonly notifier: EventsNotifier,
  ) {}

  /**
   * The "API to log important events": makes validated events (LogEventsPipe) durable, then
   * publishes them; see Note [Durable acceptance].
   *
   * @param project set for a project's token: every event is logged into that project (its `project`
   *   extension is set, whatever the event said), so a project cannot write into another one.
   */
  async log(valid: CloudEvent[], project?: string): Promise<{ accepted: number; ids: string[] }> {
    const events = valid.map(
      (e) =>
        ({
          ...e,
          ...(project !== undefined ? { project } : {}),
          traceparent: e.traceparent ?? outgoingTraceparent(),
        }) as CloudEvent,
    );
    // see Note [Durable acceptance]
    if (this.bus.kind === 'memory') {
      const r = await this.repo.insertBatch(events);
      if (r.maxSeq) this.notifier.committed(r.maxSeq);
    }
    await this.bus.publishAll(events);
    return { accepted: events.length, ids: events.map((e) => e.id) };
  }

  /** The query's filters, narrowed to `project` (the caller's scope; none for an admin). */
  filterOf(q: QueryEventsDto, project?: string): EventFilter {
    return {
      project,
      type: q.type,
      source: q.source,
      subject: q.subject,
      since: q.since ? new Date(q.since) : undefined,
      until: q.until ? new Date(q.until) : undefined,
    };
  }

  async query(q: QueryEventsDto, project?: string): Promise<Page<CloudEvent>> {
    const limit = parseLimit(q.limit, 100, 1000);
    const after = decodeCursor(
      q.cursor,
      (v): v is { s: string } =>
        typeof v === 'object' && v !== null && /^\d+$/.test(String((v as { s?: unknown }).s)),
    );
    const rows = await this.repo.find({ ...this.filterOf(q, project), afterSeq: after?.s }, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => r.event),
      nextCursor: rows.length > limit ? encodeCursor({ s: page[page.length - 1]!.seq }) : null,
    };
  }

  async get(id: string, project?: string): Promise<CloudEvent> {
    const row = await this.repo.findById(id, project);
    if (!row) throw ProblemException.notFound(`event ${id}`);
    return row.event;
  }

  /** Where a stream resumes: after the seq (SSE id we sent) or after the event with that CloudEvent id. */
  async resumePoint(lastEventId: string | undefined, project?: string): Promise<string> {
    if (!lastEventId) return this.repo.maxSeq();
    if (/^\d{1,19}$/.test(lastEventId)) return lastEventId;
    const row = await this.repo.findById(lastEventId, project);
    if (!row) {
      throw ProblemException.badRequest('unknown Last-Event-ID', [
        { field: 'Last-Event-ID', message: 'no stored event has that id' },
      ]);
    }
    return row.seq;
  }

  read(filter: EventFilter, afterSeq: string, limit: number): Promise<StoredEvent[]> {
    return this.repo.find({ ...filter, afterSeq }, limit);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LoggerLike } from '@nephele/bus';
import { AppLogger } from '@nephele/observability';
import { LOGGER, TOKEN_REVOCATIONS, TokenRevocations } from '@nephele/service-kit';
import { QueryEventsDto } from './dto/query-events.dto';
import { EventsNotifier } from './events.notifier';
import { EventsService } from './events.service';

const PAGE = 500;

/**
 * SSE: replays stored events after the resume point, then follows new ones. Both phases read the
 * database by seq from the stream's own position (see Note [Event order]), so the switch from
 * replay to live has no gap and no duplicate. Each SSE `id` is the event's seq.
 */
@Injectable()
export class EventsStream {
  private readonly log: LoggerLike;
  constructor(
    private readonly events: EventsService,
    private readonly notifier: EventsNotifier,
    @Inject(LOGGER) log: AppLogger,
    @Inject(TOKEN_REVOCATIONS) private readonly revocations: TokenRevocations,
  ) {
    this.log = log;
  }

  async serve(
    q: QueryEventsDto,
    lastEventId: string | undefined,
    req: Request,
    res: Response,
    project: string | undefined,
    tokenId: string,
  ): Promise<void> {
    const filter = this.events.filterOf(q, project);
    let position = await this.events.resumePoint(lastEventId, filter.project);
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write('retry: 2000\n\n');

    let closed = false;
    let pumping = false;
    let again = false;
    const pump = async (): Promise<void> => {
      if (closed) return;
      if (pumping) {
        again = true;
        return;
      }
      pumping = true;
      try {
        do {
          again = false;
          for (;;) {
            const rows = await this.events.read(filter, position, PAGE);
            for (const r of rows) {
              res.write(`id: ${r.seq}\ndata: ${JSON.stringify(r.event)}\n\n`);
              position = r.seq;
            }
            if (rows.length < PAGE || closed) break;
          }
        } while (again && !closed);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'event stream read failed; will retry');
      } finally {
        pumping = false;
      }
    };
    const off = this.notifier.onCommitted(() => void pump());
    // Other replicas' commits, and a safety net for this one.
    const poll = setInterval(() => void pump(), 1000);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    // A revoked token's stream ends at once (see Note [Revocation] in service-kit).
    const offRevoked = this.revocations.onTokenRevoked((id) => {
      if (id !== tokenId || closed) return;
      res.write('event: revoked\ndata: {"reason":"token revoked"}\n\n');
      res.end();
      close();
    });
    const close = () => {
      closed = true;
      off();
      offRevoked();
      clearInterval(poll);
      clearInterval(keepAlive);
    };
    req.on('close', close);
    res.on('close', close);
    await pump();
  }
}

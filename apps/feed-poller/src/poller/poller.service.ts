import { Inject, Injectable } from '@nestjs/common';
import { Bus, LoggerLike } from '@nephele/bus';
import { CloudEvent, FeedError, FeedErrorData, InstanceProviderEvent, createEvent } from '@nephele/contracts';
import { AppLogger, counter } from '@nephele/observability';
import { BUS, CLOCK, Clock, LOGGER, METRICS } from '@nephele/service-kit';
import { Counter, Registry } from 'prom-client';
import { FeedPollerConfig } from '../config/env';
import { FEED_POLLER_CONFIG } from '../feed-poller.tokens';
import { FeedCredentials } from '../feeds/feed.types';
import { FeedWithCursor, FeedsRepository } from '../feeds/feeds.repository';
import { FeedsService } from '../feeds/feeds.service';
import { AtomClient, displayUrl, pageUrl } from './atom.client';
import { entryTime, normaliseEntry } from './atom.normalise';
import { AtomEntry, AtomPage, chronological, parseAtomPage } from './atom.parser';
import { feedEventId } from './event-id.util';
import { FeedProblem } from './feed-problem';
import { LeaseLost, PollerRepository } from './poller.repository';

// Note [Exactly once]
// The poller reads an AtomHopper feed forward (`?marker=<last entry id>&direction=forward&limit=N`,
// then each page's rel="previous" link, which AtomHopper points at the next newer page) and
// handles every page as one batch:
//   1. drop the entries whose id is in `seen_entries` for this feed (dedupe by entry id);
//   2. publish the others in feed order and wait for the broker's confirms;
//   3. in one transaction: record them as seen and move the cursor to the page's newest entry.
// Only then is the next page requested. A crash before 3 leaves the cursor on the previous page:
// after the restart the page is read again and its entries are published again — with the same
// CloudEvent ids, because an event id is a UUID v5 of (feed id, entry id), so consumers (idempotent
// on the id, ARCHITECTURE §1) drop the repeats. That window is the time between a confirm and a
// commit; a crash anywhere else (while fetching or parsing, between pages) repeats nothing.
// A feed's position is its cursor; `seen_entries` additionally stops repeats when a feed re-serves
// old entries (a reset cursor, a feed that ignores the marker) within the retention window.

const SERVICE = 'feed-poller';

interface PollContext {
  feed: FeedWithCursor;
  owner: string;
  credentials?: FeedCredentials;
  visited: Set<string>;
  pages: number;
  /** Entries and bytes read by this poll so far (see Note [Poll bounds]). */
  entries: number;
  bytes: number;
  marker: string | null;
  signal?: AbortSignal;
}

export type PollResult =
  | { kind: 'done'; more: boolean; published: number }
  | { kind: 'failed'; reason: string; failures: number; retryInMs: number }
  | { kind: 'lost' }
  | { kind: 'gone' };

/** Polls one feed: see Note [Exactly once] and Note [Feed leases]. */
@Injectable()
export class PollerService {
  private readonly log: LoggerLike;
  private readonly published: Counter;
  private readonly errors: Counter;

  constructor(
    private readonly feeds: FeedsRepository,
    private readonly feedsService: FeedsService,
    private readonly repo: PollerRepository,
    private readonly client: AtomClient,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(FEED_POLLER_CONFIG) private readonly config: FeedPollerConfig,
    @Inject(LOGGER) log: AppLogger,
    @Inject(METRICS) metrics: Registry,
  ) {
    this.log = log;
    this.published = counter(
      metrics,
      'nephele_feed_poller_entries_published_total',
      'Feed entries published',
    );
    this.errors = counter(metrics, 'nephele_feed_poller_errors_total', 'Failed feed polls');
  }

  /** Exponential backoff of a failing feed: interval × 2^failures, capped. */
  backoffMs(intervalMs: number, failures: number): number {
    return Math.min(this.config.backoffMaxMs, intervalMs * 2 ** Math.min(failures, 30));
  }

  /** Polls a feed this replica holds the lease on, then releases the lease with the next poll time. */
  async poll(feedId: string, owner: string, signal?: AbortSignal): Promise<PollResult> {
    const feed = await this.feeds.find(feedId);
    if (!feed) return { kind: 'gone' };
    const ctx: PollContext = {
      feed,
      owner,
      visited: new Set(),
      pages: 0,
      entries: 0,
      bytes: 0,
      marker: feed.cursor.marker,
      signal,
    };
    let published = 0;
    try {
      try {
        ctx.credentials = this.feedsService.openCredentials(feed);
      } catch (e) {
        throw new FeedProblem(`the feed's credentials cannot be decrypted: ${(e as Error).message}`);
      }
      const more = await this.read(ctx, (n) => (published += n));
      await this.repo.finish(feedId, owner, { ok: true, delayMs: more ? 0 : feed.intervalMs });
      return { kind: 'done', more, published };
    } catch (e) {
      // Shutting down: the scheduler releases the lease; the feed stays due where it stopped.
      if (signal?.aborted) return { kind: 'done', more: true, published };
      if (e instanceof LeaseLost) {
        this.log.warn({ feedId }, 'lost the lease on a feed while polling it; stopping');
        return { kind: 'lost' };
      }
      if (e instanceof FeedProblem) return this.failed(ctx, e.message);
      // Our own trouble (database, broker): not the feed's fault, but back off the same way.
      this.log.warn({ feedId, err: (e as Error).message }, 'polling a feed failed');
      return this.failed(ctx, `internal: ${(e as Error).message}`, false);
    }
  }

  private async failed(ctx: PollContext, reason: string, announce = true): Promise<PollResult> {
    const failures = ctx.feed.cursor.failures + 1;
    const retryInMs = this.backoffMs(ctx.feed.intervalMs, failures);
    this.errors.inc();
    this.log.warn({ feedId: ctx.feed.id, reason, failures, retryInMs }, 'feed poll failed; backing off');
    await this.repo
      .finish(ctx.feed.id, ctx.owner, { ok: false, delayMs: retryInMs, failures, error: reason })
      .catch((e: Error) => this.log.warn({ err: e.message }, 'recording a feed failure failed'));
    if (announce) await this.announce(ctx, reason, failures, retryInMs);
    return { kind: 'failed', reason, failures, retryInMs };
  }

  /** Publishes `nephele.feed.error` (best effort: a broker outage must not stop the poller). */
  private async announce(
    ctx: PollContext,
    reason: string,
    failures: number,
    retryInMs: number,
  ): Promise<void> {
    const now = this.clock.now();
    const data: FeedErrorData = {
      feedId: ctx.feed.id,
      reason: reason.slice(0, 2000),
      retryAt: new Date(now.getTime() + retryInMs).toISOString(),
      url: displayUrl(ctx.feed.url),
    };
    if (failures > 0) data.failures = failures;
    await this.bus
      .publish(createEvent(SERVICE, FeedError.type, data, { subject: ctx.feed.id, time: now }))
      .catch((e: Error) => this.log.warn({ err: e.message }, 'publishing a feed error failed'));
  }

  /** Reads forward from the cursor; true when it stopped at the page bound with more to read. */
  private async read(ctx: PollContext, onPublished: (n: number) => void): Promise<boolean> {
    const { feed } = ctx;
    let next = '';
    let first: AtomPage | undefined;
    if (ctx.marker !== null) {
      next = pageUrl(feed.url, { marker: ctx.marker, direction: 'forward', limit: feed.pageLimit });
      try {
        first = await this.fetchPage(ctx, next);
      } catch (e) {
        // AtomHopper answers 404 for a marker it no longer has (old entries archived away while we
        // were down). Everything older went with it, so reading again from the oldest entry left
        // misses nothing, and `seen_entries` keeps what was published from being published again.
        if (!(e instanceof FeedProblem && e.status === 404)) throw e;
        await this.announce(
          ctx,
          `marker ${ctx.marker} is no longer in the feed (HTTP 404); reading again from its oldest entry, skipping entries already published`,
          feed.cursor.failures,
          0,
        );
        ctx.marker = null;
      }
    }
    if (ctx.marker === null) {
      const start = await this.start(ctx, onPublished);
      if (start === undefined) return false;
      next = start;
    }
    for (;;) {
      if (ctx.signal?.aborted) return true;
      if (!first && (ctx.pages >= this.config.maxPagesPerPoll || this.spent(ctx))) return true;
      const page = first ?? (await this.fetchPage(ctx, next));
      first = undefined;
      const { entries, truncated } = this.bounded(ctx, page);
      if (!entries.length) return false;
      const before = ctx.marker;
      onPublished(await this.publishBatch(ctx, entries));
      if (ctx.marker === before) {
        throw new FeedProblem(`paging made no progress: the page after marker ${before} ends at ${before}`);
      }
      next = this.forwardLink(ctx, page, truncated);
    }
  }

  /**
   * A feed without a cursor: find its oldest page (AtomHopper's rel="last", or the rel="next"
   * chain backwards), publish it, and return where forward reading goes on. With startAt=newest,
   * only remember the newest entry. Undefined when the feed is empty.
   */
  private async start(ctx: PollContext, onPublished: (n: number) => void): Promise<string | undefined> {
    const { feed } = ctx;
    const headUrl = pageUrl(feed.url, { limit: feed.pageLimit });
    const head = await this.fetchPage(ctx, headUrl);
    if (!head.entries.length) return undefined;
    if (feed.startAt === 'newest') {
      const newest = chronological(head.entries).at(-1)!.id;
      await this.repo.commitBatch(feed.id, ctx.owner, this.config.leaseMs, newest, []);
      ctx.marker = newest;
      return pageUrl(feed.url, { marker: newest, direction: 'forward', limit: feed.pageLimit });
    }
    let oldest: AtomPage = head;
    const last = head.links.last ? this.resolve(ctx, head.links.last, headUrl) : undefined;
    if (last && !ctx.visited.has(last)) {
      oldest = await this.fetchPage(ctx, last);
    } else if (!last) {
      let url = headUrl;
      while (oldest.links.next) {
        if (ctx.pages >= this.config.maxPagesPerPoll) {
          throw new FeedProblem(`no end found after ${ctx.pages} pages backwards`);
        }
        url = this.resolve(ctx, oldest.links.next, url);
        oldest = await this.fetchPage(ctx, url);
      }
    }
    const { entries, truncated } = this.bounded(ctx, oldest);
    if (!entries.length) throw new FeedProblem('the oldest page of the feed has no entries');
    onPublished(await this.publishBatch(ctx, entries));
    return this.forwardLink(ctx, oldest, truncated);
  }

  // Note [Poll bounds]
  // A feed server decides how much it sends: one page may hold 100,000 entries whatever `limit`
  // asked for. A poll takes at most `pageLimit` entries of a page (the oldest ones; the cursor moves
  // to the last one taken, so the rest come on the next request) and stops, due again at once, after
  // FEED_POLLER_MAX_ENTRIES_PER_POLL entries or FEED_POLLER_MAX_BYTES_PER_POLL bytes, so one feed
  // cannot flood the bus and the database or starve the other feeds.

  private spent(ctx: PollContext): boolean {
    return ctx.entries >= this.config.maxEntriesPerPoll || ctx.bytes >= this.config.maxBytesPerPoll;
  }

  /** A page's entries, oldest first, cut to the page limit and what is left of the poll's budget. */
  private bounded(ctx: PollContext, page: AtomPage): { entries: AtomEntry[]; truncated: boolean } {
    const all = chronological(page.entries);
    const room = Math.max(1, Math.min(ctx.feed.pageLimit, this.config.maxEntriesPerPoll - ctx.entries));
    return all.length > room
      ? { entries: all.slice(0, room), truncated: true }
      : { entries: all, truncated: false };
  }

  /**
   * The next newer page: AtomHopper's rel="previous" link, or the marker URL built from the cursor
   * (always after a page that was cut, whose rest the link would skip).
   */
  private forwardLink(ctx: PollContext, page: AtomPage, truncated = false): string {
    const { feed } = ctx;
    const built = pageUrl(feed.url, { marker: ctx.marker!, direction: 'forward', limit: feed.pageLimit });
    return page.links.previous && !truncated ? this.resolve(ctx, page.links.previous, built) : built;
  }

  /** A link of the feed as an absolute URL on the feed's own origin (no wandering to other hosts). */
  private resolve(ctx: PollContext, href: string, base: string): string {
    let u: URL;
    try {
      u = new URL(href, base);
    } catch {
      throw new FeedProblem(`invalid paging link ${href.slice(0, 200)}`);
    }
    if (u.origin !== new URL(ctx.feed.url).origin) {
      throw new FeedProblem(`paging link leaves the feed's origin: ${displayUrl(u.toString())}`);
    }
    return u.toString();
  }

  private async fetchPage(ctx: PollContext, url: string): Promise<AtomPage> {
    if (ctx.visited.has(url))
      throw new FeedProblem(`paging loop: ${displayUrl(url)} was already read in this poll`);
    ctx.visited.add(url);
    ctx.pages++;
    // The poll's byte budget is checked before each page (see Note [Poll bounds]): a page is bounded
    // by the response limit, so a poll reads at most budget + one page.
    const xml = await this.client.get(url, ctx.credentials, ctx.signal);
    ctx.bytes += Buffer.byteLength(xml);
    if (!(await this.repo.renew(ctx.feed.id, ctx.owner, this.config.leaseMs)))
      throw new LeaseLost(ctx.feed.id);
    try {
      return parseAtomPage(xml, { maxEntryBytes: this.config.maxEntryBytes });
    } catch (e) {
      if (e instanceof FeedProblem) throw new FeedProblem(`${e.message} (${displayUrl(url)})`);
      throw e;
    }
  }

  /** Steps 1–3 of Note [Exactly once] for one page; returns how many events were published. */
  private async publishBatch(ctx: PollContext, entries: AtomEntry[]): Promise<number> {
    const { feed } = ctx;
    const unique: AtomEntry[] = [];
    const ids = new Set<string>();
    for (const e of entries) {
      if (!ids.has(e.id)) {
        ids.add(e.id);
        unique.push(e);
      }
    }
    const seen = await this.repo.seen(feed.id, [...ids]);
    const fresh = unique.filter((e) => !seen.has(e.id));
    const now = this.clock.now();
    const events: CloudEvent[] = fresh.map((e) => {
      const data = normaliseEntry(feed.id, e, feed.providerAccountId ?? undefined);
      return createEvent(SERVICE, InstanceProviderEvent.type, data, {
        id: feedEventId(feed.id, e.id),
        subject: data.providerInstanceId ?? feed.id,
        time: entryTime(e, now),
        // A feed's events belong to its project (the event log files them there; consumers scope by it).
        ...(feed.project ? { project: feed.project } : {}),
      });
    });
    if (events.length) await this.bus.publishAll(events);
    const newest = unique[unique.length - 1]!.id;
    await this.repo.commitBatch(
      feed.id,
      ctx.owner,
      this.config.leaseMs,
      newest,
      events.map((ev, i) => ({ entryId: fresh[i]!.id, eventId: ev.id })),
    );
    ctx.marker = newest;
    ctx.entries += unique.length;
    this.published.inc(events.length);
    return events.length;
  }
}

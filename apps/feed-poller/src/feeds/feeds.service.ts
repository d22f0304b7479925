import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ConfigExport, createEvent, FieldError } from '@nephele/contracts';
import { SecretBox, SealedSecret } from '@nephele/crypto';
import { Bus, OutboxRelay } from '@nephele/bus';
import {
  BUS,
  enqueueAudit,
  Page,
  Principal,
  ProblemException,
  checkIfMatch,
  decodeCursor,
  encodeCursor,
  parseLimit,
  projectScope,
} from '@nephele/service-kit';
import { FEED_POLLER_SCHEMA } from '../data-source';
import { FEED_POLLER_OUTBOX, FEED_SECRET_BOX } from '../feed-poller.tokens';
import { CreateFeedDto, FeedCredentialsDto, UpdateFeedDto } from './dto/feed.dto';
import { FeedCredentials, FeedView } from './feed.types';
import { FeedWithCursor, FeedsRepository, InTransaction, NewFeed } from './feeds.repository';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toView(f: FeedWithCursor): FeedView {
  return {
    id: f.id,
    project: f.project,
    name: f.name,
    url: f.url,
    intervalMs: f.intervalMs,
    pageLimit: f.pageLimit,
    enabled: f.enabled,
    startAt: f.startAt,
    providerAccountId: f.providerAccountId,
    hasCredentials: f.credentials !== null,
    version: f.version,
    createdAt: iso(f.createdAt)!,
    updatedAt: iso(f.updatedAt)!,
    status: {
      cursor: f.cursor.marker,
      failures: f.cursor.failures,
      lastError: f.cursor.lastError,
      nextPollAt: iso(f.cursor.nextPollAt)!,
      lastPolledAt: iso(f.cursor.lastPolledAt),
      lastSuccessAt: iso(f.cursor.lastSuccessAt),
      entriesPublished: f.cursor.entriesPublished,
    },
  };
}

/** Why a feed URL is refused, or undefined: http(s) only, no credentials inside the URL. */
export function feedUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'url must be an absolute http or https URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'url must use http or https';
  if (u.username || u.password) return 'put credentials in `credentials`, not in the URL';
  if (u.hash) return 'url must not have a fragment';
  return undefined;
}

function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: unknown }).code === '23505';
}

/** Feed configuration: project-scoped CRUD with write-only, encrypted credentials. */
@Injectable()
export class FeedsService {
  constructor(
    private readonly repo: FeedsRepository,
    @Inject(FEED_SECRET_BOX) private readonly box: SecretBox | null,
    @Inject(FEED_POLLER_OUTBOX) private readonly outbox: OutboxRelay,
    @Inject(BUS) private readonly bus: Bus,
  ) {}

  /**
   * A project's feed may name only a provider account of that project (its entries change that
   * account's instances): another project's account answers 404 like a missing one. Asked of the
   * config-api over the bus. A feed without a project (an admin's) may name any account.
   */
  private async checkAccount(project: string | null, accountId: string | null | undefined): Promise<void> {
    if (!accountId || project === null) return;
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    if (!isUuid.test(accountId) || !isUuid.test(project)) {
      throw ProblemException.notFound(`provider account ${accountId}`);
    }
    let accounts: { id: string; project: string }[];
    try {
      const snap = await this.bus.request<{ providerAccounts?: { id: string; project: string }[] }>(
        createEvent('feed-poller', ConfigExport.type, { project }),
        { timeoutMs: 5000 },
      );
      accounts = snap?.providerAccounts ?? [];
    } catch {
      throw new ProblemException(
        503,
        'the config-api is not reachable to check providerAccountId; try again',
      );
    }
    if (!accounts.some((a) => a.id === accountId && a.project === project)) {
      throw ProblemException.notFound(`provider account ${accountId}`);
    }
  }

  /** The audit record of a change, written in its transaction (credentials never in it). */
  private audited(
    p: Principal,
    action: string,
    after?: (f: FeedWithCursor) => Record<string, unknown>,
  ): InTransaction {
    return (tx, f) =>
      enqueueAudit(tx, FEED_POLLER_SCHEMA, 'feed-poller', p, {
        resource: 'feeds',
        action,
        id: f.id,
        project: f.project,
        after: after?.(f),
      });
  }

  private static summary(f: FeedWithCursor): Record<string, unknown> {
    return { name: f.name, url: f.url, enabled: f.enabled, intervalMs: f.intervalMs, version: f.version };
  }

  private seal(id: string, c: FeedCredentialsDto, field: string): SealedSecret {
    if (!this.box) {
      throw ProblemException.badRequest('credentials cannot be stored', [
        { field, message: 'this feed poller has no NEPHELE_MASTER_KEY to encrypt credentials with' },
      ]);
    }
    const value: FeedCredentials =
      c.type === 'basic'
        ? { type: 'basic', username: c.username!, password: c.password ?? '' }
        : { type: 'bearer', token: c.token! };
    return this.box.seal(id, value);
  }

  /** The credentials of a feed in clear, for the poller only. */
  openCredentials(f: Pick<FeedWithCursor, 'id' | 'credentials'>): FeedCredentials | undefined {
    if (!f.credentials) return undefined;
    if (!this.box) throw new Error('feed has credentials but NEPHELE_MASTER_KEY is not set');
    return this.box.open<FeedCredentials>(f.id, f.credentials);
  }

  private scopeForWrite(p: Principal, requested: string | undefined): string | null {
    if (p.role !== 'admin' && requested !== undefined && requested !== p.project) {
      throw ProblemException.badRequest('invalid project', [
        { field: 'project', message: 'a project token acts in its own project only' },
      ]);
    }
    return projectScope(p, requested) ?? null;
  }

  async create(p: Principal, dto: CreateFeedDto): Promise<FeedView> {
    const errors: FieldError[] = [];
    const urlProblem = feedUrlProblem(dto.url);
    if (urlProblem) errors.push({ field: 'url', message: urlProblem });
    if (errors.length) throw ProblemException.badRequest('invalid feed', errors);
    const id = randomUUID();
    const project = this.scopeForWrite(p, dto.project);
    await this.checkAccount(project, dto.providerAccountId);
    const row: NewFeed = {
      id,
      project,
      name: dto.name,
      url: dto.url,
      intervalMs: dto.intervalMs ?? 60_000,
      pageLimit: dto.pageLimit ?? 25,
      enabled: dto.enabled ?? true,
      startAt: dto.startAt ?? 'oldest',
      credentials: dto.credentials ? this.seal(id, dto.credentials, 'credentials') : null,
      providerAccountId: dto.providerAccountId ?? null,
    };
    const created = await this.repo.insert(row, this.audited(p, 'create', FeedsService.summary));
    if (!created) throw ProblemException.conflict(`a feed named ${dto.name} already exists`);
    this.outbox.nudge();
    return toView(created);
  }

  /** A feed the principal may see; another project's feed is "not found" like a missing one. */
  async find(p: Principal, id: string, project?: string): Promise<FeedWithCursor> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
      throw ProblemException.notFound(`feed ${id}`);
    }
    const f = await this.repo.find(id, projectScope(p, project));
    if (!f) throw ProblemException.notFound(`feed ${id}`);
    return f;
  }

  async list(
    p: Principal,
    q: { limit?: string; cursor?: string; project?: string },
  ): Promise<Page<FeedView>> {
    const limit = parseLimit(q.limit, 100, 1000);
    const after = decodeCursor(
      q.cursor,
      (v): v is { id: string } =>
        typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string',
    );
    const rows = await this.repo.list({
      project: projectScope(p, q.project),
      afterId: after?.id,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map(toView),
      nextCursor: rows.length > limit ? encodeCursor({ id: page[page.length - 1]!.id }) : null,
    };
  }

  async update(
    p: Principal,
    id: string,
    dto: UpdateFeedDto,
    ifMatch: string | undefined,
    project?: string,
  ): Promise<FeedView> {
    const current = await this.find(p, id, project);
    checkIfMatch(ifMatch, current.version);
    if (dto.url !== undefined) {
      const problem = feedUrlProblem(dto.url);
      if (problem) throw ProblemException.badRequest('invalid feed', [{ field: 'url', message: problem }]);
    }
    await this.checkAccount(current.project, dto.providerAccountId);
    const credentials =
      dto.credentials === undefined
        ? undefined
        : dto.credentials === null
          ? null
          : this.seal(id, dto.credentials, 'credentials');
    const urlChanged = dto.url !== undefined && dto.url !== current.url;
    const pollNow =
      (dto.enabled === true && !current.enabled) ||
      (dto.intervalMs !== undefined && dto.intervalMs !== current.intervalMs);
    try {
      const updated = await this.repo.update(
        id,
        current.version,
        {
          name: dto.name,
          url: dto.url,
          intervalMs: dto.intervalMs,
          pageLimit: dto.pageLimit,
          enabled: dto.enabled,
          startAt: dto.startAt,
          credentials,
          providerAccountId: dto.providerAccountId,
        },
        urlChanged,
        pollNow,
        this.audited(p, 'update', FeedsService.summary),
      );
      if (!updated) throw ProblemException.preconditionFailed();
      this.outbox.nudge();
      return toView(updated);
    } catch (e) {
      if (isUniqueViolation(e)) throw ProblemException.conflict(`a feed named ${dto.name} already exists`);
      throw e;
    }
  }

  async delete(p: Principal, id: string, ifMatch: string | undefined, project?: string): Promise<void> {
    const current = await this.find(p, id, project);
    checkIfMatch(ifMatch, current.version);
    if (
      !(await this.repo.delete(current, ifMatch ? current.version : undefined, this.audited(p, 'delete')))
    ) {
      throw ProblemException.preconditionFailed();
    }
    this.outbox.nudge();
  }
}

import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/** One entry of a test feed. */
export interface TestEntry {
  id: string;
  updated: string;
  /** The inner XML of the entry besides id/updated (title, category, content…). */
  body: string;
}

/** How a test feed misbehaves. */
export type Hostility =
  | { kind: 'malformed' }
  | { kind: 'doctype' }
  | { kind: 'huge-entry'; bytes: number }
  | { kind: 'loop' }
  | { kind: 'status'; status: number }
  /** Serves every entry after the marker (newest first) in one page, whatever `limit` asked for. */
  | { kind: 'ignores-limit' };

/** A request the server received, for tests that watch the poller page. */
export interface SeenRequest {
  feed: string;
  marker?: string;
  direction?: string;
  limit?: number;
  authorization?: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** A server-side instance event as a Rackspace-style entry with JSON content. */
export function serverEventEntry(
  i: number,
  opts: { instance?: string; state?: string; at?: Date } = {},
): TestEntry {
  const at = opts.at ?? new Date(Date.UTC(2025, 0, 1, 0, 0, 0) + i * 1000);
  const instance = opts.instance ?? `srv-${i % 7}`;
  const content = JSON.stringify({
    event_type: 'compute.instance.update',
    payload: { instance_id: instance, state: opts.state ?? (i % 2 ? 'active' : 'building') },
  });
  return {
    id: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    updated: at.toISOString(),
    body:
      `<title type="text">server event ${i}</title>` +
      `<category term="type:compute.instance.update"/><category term="rid:${esc(instance)}"/>` +
      `<content type="application/json">${esc(content)}</content>`,
  };
}

/**
 * A test AtomHopper: feeds at `/<name>/`, newest entries first on every page, paging the way
 * AtomHopper's PostgreSQL adapter does — the head (no marker) lists the newest `limit` entries;
 * `marker=X&direction=forward` lists the entries strictly newer than X (the oldest `limit` of them,
 * newest first); `direction=backward` lists X and older ones. Every non-empty page links
 * rel="previous" to `marker=<its newest>&direction=forward` and, when older entries exist,
 * rel="next" to `marker=<the next older>&direction=backward`; the head links rel="last" to the
 * oldest page. An unknown marker answers 404.
 */
export class TestAtomServer {
  private server?: Server;
  readonly feeds = new Map<string, TestEntry[]>();
  readonly hostile = new Map<string, Hostility>();
  readonly requests: SeenRequest[] = [];
  /** Called before a page is served; a test may hold the answer back (resolve later). */
  beforeServe?: (req: SeenRequest) => Promise<void> | void;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  feedUrl(name: string): string {
    return `${this.url}/${name}/`;
  }

  /** Appends entries (oldest first) to a feed. */
  add(name: string, entries: TestEntry[]): void {
    this.feeds.set(name, [...(this.feeds.get(name) ?? []), ...entries]);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', this.url);
    const name = u.pathname.split('/').filter(Boolean)[0] ?? '';
    const seen: SeenRequest = {
      feed: name,
      marker: u.searchParams.get('marker') ?? undefined,
      direction: u.searchParams.get('direction') ?? undefined,
      limit: u.searchParams.has('limit') ? Number(u.searchParams.get('limit')) : undefined,
      authorization: req.headers.authorization,
    };
    this.requests.push(seen);
    try {
      await this.beforeServe?.(seen);
    } catch {
      res.destroy();
      return;
    }
    if (res.destroyed) return;
    const hostility = this.hostile.get(name);
    if (hostility) return this.serveHostile(hostility, name, u, res);
    const all = this.feeds.get(name);
    if (!all) {
      res.writeHead(404).end();
      return;
    }
    const limit = seen.limit && seen.limit > 0 ? seen.limit : 25;
    let page: TestEntry[];
    if (!seen.marker) {
      page = all.slice(-limit).reverse();
    } else {
      const at = all.findIndex((e) => e.id === seen.marker);
      if (at < 0) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('No entry with specified marker found');
        return;
      }
      if (seen.direction === 'forward') page = all.slice(at + 1, at + 1 + limit).reverse();
      else if (seen.direction === 'backward') page = all.slice(Math.max(0, at + 1 - limit), at + 1).reverse();
      else {
        res
          .writeHead(400)
          .end('Marker must have a page direction specified as either "forward" or "backward"');
        return;
      }
    }
    const base = this.feedUrl(name);
    const links: string[] = [`<link rel="current" href="${esc(base)}"/>`];
    if (page.length) {
      const newest = page[0]!;
      const oldest = page[page.length - 1]!;
      links.push(
        `<link rel="previous" href="${esc(`${base}?marker=${encodeURIComponent(newest.id)}&limit=${limit}&search=&direction=forward`)}"/>`,
      );
      const olderIdx = all.findIndex((e) => e.id === oldest.id) - 1;
      if (olderIdx >= 0) {
        links.push(
          `<link rel="next" href="${esc(`${base}?marker=${encodeURIComponent(all[olderIdx]!.id)}&limit=${limit}&search=&direction=backward`)}"/>`,
        );
      }
    }
    if (!seen.marker && all.length) {
      const lastSize = all.length % limit || limit;
      links.push(
        `<link rel="last" href="${esc(`${base}?marker=${encodeURIComponent(all[lastSize - 1]!.id)}&limit=${limit}&search=&direction=backward`)}"/>`,
      );
    }
    this.send(res, this.feedXml(name, links, page));
  }

  private feedXml(name: string, links: string[], page: TestEntry[]): string {
    const entries = page
      .map(
        (e) =>
          `<atom:entry><atom:id>${esc(e.id)}</atom:id><atom:updated>${e.updated}</atom:updated>${e.body}</atom:entry>`,
      )
      .join('');
    // Entries with a namespace prefix, as AtomHopper (Abdera) writes them.
    return (
      `<?xml version="1.0" encoding="UTF-8"?>` +
      `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:atom="http://www.w3.org/2005/Atom">` +
      `<id>urn:feed:${esc(name)}</id><title type="text">${esc(name)}</title>${links.join('')}` +
      `<updated>2025-01-01T00:00:00Z</updated>${entries}</feed>`
    );
  }

  private send(res: ServerResponse, xml: string): void {
    res.writeHead(200, { 'content-type': 'application/atom+xml; charset=utf-8' }).end(xml);
  }

  private serveHostile(h: Hostility, name: string, u: URL, res: ServerResponse): void {
    const base = this.feedUrl(name);
    switch (h.kind) {
      case 'malformed':
        return this.send(
          res,
          `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id></feed>`,
        );
      case 'doctype':
        return this.send(
          res,
          `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
            `<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` +
            `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>bomb</id><title>&lol3;</title></entry></feed>`,
        );
      case 'huge-entry':
        return this.send(
          res,
          this.feedXml(
            name,
            [],
            [
              {
                id: 'urn:huge',
                updated: '2025-01-01T00:00:00Z',
                body: `<content type="text">${'x'.repeat(h.bytes)}</content>`,
              },
            ],
          ),
        );
      case 'loop': {
        // Every page links "previous" back to the head and the head to the page: a cycle.
        const marker = u.searchParams.get('marker');
        const link = marker ? base : `${base}?marker=loop-1&limit=25&direction=forward`;
        const entry = {
          id: marker ? 'loop-2' : 'loop-1',
          updated: '2025-01-01T00:00:00Z',
          body: '<title>loop</title>',
        };
        return this.send(res, this.feedXml(name, [`<link rel="previous" href="${esc(link)}"/>`], [entry]));
      }
      case 'status':
        res.writeHead(h.status, { 'content-type': 'text/plain' }).end('broken');
        return;
      case 'ignores-limit': {
        const all = this.feeds.get(name) ?? [];
        const marker = u.searchParams.get('marker');
        const from = marker ? all.findIndex((e) => e.id === marker) + 1 : 0;
        const page = all.slice(from).reverse();
        const links = page.length
          ? [
              `<link rel="previous" href="${esc(`${base}?marker=${encodeURIComponent(page[0]!.id)}&direction=forward`)}"/>`,
            ]
          : [];
        return this.send(res, this.feedXml(name, links, page));
      }
    }
  }
}

import { normaliseEntry } from './atom.normalise';
import { chronological, parseAtomPage } from './atom.parser';
import { feedEventId, uuidV5 } from './event-id.util';
import { FeedProblem } from './feed-problem';

const limits = { maxEntryBytes: 10_000 };
const feed = (entries: string, links = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">${links}${entries}</feed>`;

describe('parseAtomPage', () => {
  it('reads entries, links and categories, namespace prefixes included', () => {
    const page = parseAtomPage(
      feed(
        `<atom:entry xmlns:atom="http://www.w3.org/2005/Atom"><atom:id>urn:2</atom:id><atom:updated>2025-01-01T00:00:02Z</atom:updated>
           <atom:title type="text">two &amp; more</atom:title><atom:category term="type:server.create"/></atom:entry>
         <entry><id>urn:1</id><updated>2025-01-01T00:00:01Z</updated></entry>`,
        `<link rel="previous" href="http://x/feed/?marker=urn:2&amp;direction=forward"/><link rel="current" href="http://x/feed/"/>`,
      ),
      limits,
    );
    expect(page.links).toEqual({
      previous: 'http://x/feed/?marker=urn:2&direction=forward',
      current: 'http://x/feed/',
    });
    expect(page.entries.map((e) => e.id)).toEqual(['urn:2', 'urn:1']);
    expect(page.entries[0]).toMatchObject({
      title: 'two & more',
      categories: [{ term: 'type:server.create' }],
    });
    expect(chronological(page.entries).map((e) => e.id)).toEqual(['urn:1', 'urn:2']);
  });

  it.each([
    ['malformed XML', feed('<entry><id>x</id>'), /malformed XML/],
    [
      'an entity bomb',
      `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><feed><entry><id>&b;</id></entry></feed>`,
      /DOCTYPE and ENTITY declarations are refused/,
    ],
    ['an external entity', `<!DOCTYPE feed SYSTEM "file:///etc/passwd"><feed/>`, /DOCTYPE/],
    [
      'a huge entry',
      feed(`<entry><id>big</id><content>${'x'.repeat(20_000)}</content></entry>`),
      /entry big is \d+ bytes, over the limit of 10000 bytes/,
    ],
    ['an entry without id', feed('<entry><title>t</title></entry>'), /entry #1 has no atom:id/],
    ['another root element', '<rss><channel/></rss>', /not an Atom feed/],
    [
      'deep nesting',
      feed(`<entry><id>d</id><content>${'<a>'.repeat(200)}${'</a>'.repeat(200)}</content></entry>`),
      /./,
    ],
  ])('refuses %s', (_name, xml, message) => {
    let err: unknown;
    try {
      parseAtomPage(xml, limits);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FeedProblem);
    expect((err as Error).message).toMatch(message);
  });

  it('keeps a page already oldest first in its order', () => {
    const page = parseAtomPage(
      feed(
        `<entry><id>a</id><updated>2025-01-01T00:00:01Z</updated></entry><entry><id>b</id><updated>2025-01-01T00:00:02Z</updated></entry>`,
      ),
      limits,
    );
    expect(chronological(page.entries).map((e) => e.id)).toEqual(['a', 'b']);
  });
});

describe('normaliseEntry', () => {
  it('reads an OpenStack notification in JSON content', () => {
    const [e] = parseAtomPage(
      feed(
        `<entry><id>urn:n1</id><updated>2025-01-01T00:00:00Z</updated><content type="application/json">${JSON.stringify(
          {
            event_type: 'compute.instance.create.end',
            payload: { instance_id: 'i-1', state: 'active' },
          },
        ).replace(/"/g, '&quot;')}</content></entry>`,
      ),
      limits,
    ).entries;
    expect(normaliseEntry('f1', e!, 'acct-1')).toMatchObject({
      feedId: 'f1',
      entryId: 'urn:n1',
      providerInstanceId: 'i-1',
      eventType: 'compute.instance.create.end',
      state: 'active',
      updated: '2025-01-01T00:00:00Z',
      providerAccountId: 'acct-1',
    });
  });

  it('reads a Rackspace core event in XML content', () => {
    const [e] = parseAtomPage(
      feed(
        `<entry><id>urn:r1</id><content type="application/xml"><event xmlns="http://docs.rackspace.com/core/event" type="DELETE" resourceId="srv-9"><product status="DELETED"/></event></content></entry>`,
      ),
      limits,
    ).entries;
    expect(normaliseEntry('f1', e!)).toMatchObject({
      providerInstanceId: 'srv-9',
      eventType: 'DELETE',
      state: 'DELETED',
    });
  });

  it('falls back to key:value categories', () => {
    const [e] = parseAtomPage(
      feed(
        `<entry><id>urn:c1</id><category term="rid:srv-3"/><category term="type:server.reboot"/><category term="state:rebooting"/></entry>`,
      ),
      limits,
    ).entries;
    expect(normaliseEntry('f1', e!)).toMatchObject({
      providerInstanceId: 'srv-3',
      eventType: 'server.reboot',
      state: 'rebooting',
    });
  });
});

describe('feedEventId', () => {
  it('is a deterministic RFC 9562 UUID v5 per (feed, entry)', () => {
    // The RFC's test vector: v5 of "www.example.com" in the DNS namespace.
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
    expect(feedEventId('f1', 'e1')).toBe(feedEventId('f1', 'e1'));
    expect(feedEventId('f1', 'e1')).not.toBe(feedEventId('f2', 'e1'));
    expect(feedEventId('f1', 'e1')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

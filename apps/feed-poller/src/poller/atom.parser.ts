import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FeedProblem } from './feed-problem';

// Note [Safe XML]
// Feeds come from outside. Before any parsing: a response over the byte limit was already cut off
// by the HTTP client; a document with a DOCTYPE or an ENTITY declaration is refused outright
// (Atom needs neither, and they are how entity-expansion bombs and external entities get in), so
// only the five predefined XML entities and character references are ever expanded. The text is
// then validated as well-formed XML (the parser alone is lenient), parsed with a bound on nesting
// depth, and every entry is measured against the per-entry limit.

export interface AtomCategory {
  term: string;
  scheme?: string;
  label?: string;
}

export interface AtomEntry {
  id: string;
  updated?: string;
  published?: string;
  title?: string;
  summary?: string;
  categories: AtomCategory[];
  /** `type` attribute of atom:content. */
  contentType?: string;
  /** atom:content: text, or the parsed element tree of inline XML. */
  content?: unknown;
}

export interface AtomPage {
  entries: AtomEntry[];
  /** Feed-level links by rel (the first of each rel). */
  links: Record<string, string>;
}

export interface ParseLimits {
  maxEntryBytes: number;
  maxNestedTags?: number;
}

const ATTR = '@_';
const parser = (maxNestedTags: number) =>
  new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: ATTR,
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    processEntities: true,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    maxNestedTags,
    isArray: (name) => name === 'entry' || name === 'link' || name === 'category',
  });

function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  if (node && typeof node === 'object' && '#text' in node)
    return text((node as Record<string, unknown>)['#text']);
  return undefined;
}

function attr(node: unknown, name: string): string | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const v = (node as Record<string, unknown>)[`${ATTR}${name}`];
  return typeof v === 'string' ? v : undefined;
}

function asArray(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Parses one page of an Atom feed safely (see Note [Safe XML]); throws FeedProblem when refused. */
export function parseAtomPage(xml: string, limits: ParseLimits): AtomPage {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw new FeedProblem('DOCTYPE and ENTITY declarations are refused (entity expansion protection)');
  }
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new FeedProblem(
      `malformed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`,
    );
  }
  let doc: Record<string, unknown>;
  try {
    doc = parser(limits.maxNestedTags ?? 64).parse(xml) as Record<string, unknown>;
  } catch (e) {
    throw new FeedProblem(`unparseable XML: ${(e as Error).message}`);
  }
  const feed = doc.feed;
  if (!feed || typeof feed !== 'object')
    throw new FeedProblem('not an Atom feed: the root element is not <feed>');
  const f = feed as Record<string, unknown>;
  const links: Record<string, string> = {};
  for (const l of asArray(f.link)) {
    const rel = attr(l, 'rel') ?? 'alternate';
    const href = attr(l, 'href');
    if (href && !(rel in links)) links[rel] = href;
  }
  const entries: AtomEntry[] = asArray(f.entry).map((raw, i) => {
    const size = Buffer.byteLength(JSON.stringify(raw) ?? '', 'utf8');
    const e = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    const id = text(e.id)?.trim();
    if (size > limits.maxEntryBytes) {
      throw new FeedProblem(
        `entry ${id ?? `#${i + 1}`} is ${size} bytes, over the limit of ${limits.maxEntryBytes} bytes`,
      );
    }
    if (!id) throw new FeedProblem(`entry #${i + 1} has no atom:id`);
    if (id.length > 1000) throw new FeedProblem(`entry #${i + 1} has an atom:id over 1000 characters`);
    const content = e.content;
    let contentValue: unknown;
    if (content !== undefined) {
      const t = text(content);
      if (t !== undefined) contentValue = t;
      else if (content && typeof content === 'object') {
        contentValue = Object.fromEntries(
          Object.entries(content as Record<string, unknown>).filter(([k]) => !k.startsWith(ATTR)),
        );
      }
    }
    return {
      id,
      updated: text(e.updated)?.trim(),
      published: text(e.published)?.trim(),
      title: text(e.title),
      summary: text(e.summary),
      categories: asArray(e.category)
        .map((c) => ({ term: attr(c, 'term') ?? '', scheme: attr(c, 'scheme'), label: attr(c, 'label') }))
        .filter((c) => c.term !== ''),
      contentType: attr(content, 'type'),
      content: contentValue,
    };
  });
  return { entries, links };
}

/**
 * The entries of a page oldest first. AtomHopper lists newest first; a feed that lists oldest
 * first (its first entry updated before its last) is kept as it is.
 */
export function chronological(entries: AtomEntry[]): AtomEntry[] {
  if (entries.length < 2) return entries;
  const first = Date.parse(entries[0]!.updated ?? '');
  const last = Date.parse(entries[entries.length - 1]!.updated ?? '');
  if (!Number.isNaN(first) && !Number.isNaN(last) && first < last) return entries;
  return [...entries].reverse();
}

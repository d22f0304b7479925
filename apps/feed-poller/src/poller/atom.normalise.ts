import { ProviderEventData } from '@nephele/contracts';
import { isRfc3339 } from '@nephele/util';
import { AtomEntry } from './atom.parser';

// Note [Entry normalisation]
// Provider feeds carry server events in a few shapes; each entry becomes one
// `nephele.instance.provider_event` with the fields the state tracker needs, and everything else in
// `details`. Looked for, in this order:
//   - JSON content (an OpenStack notification): event_type, payload.instance_id, payload.state;
//   - inline XML content with an `event` element (Rackspace Cloud Feeds core event):
//     @resourceId, @type, and the @status or @state of its `product` child;
//   - categories written `key:value` (AtomHopper search categories): type:, rid: / instance:,
//     state: / status:;
//   - otherwise the first category term (or the title) is the event type.

const INSTANCE_KEYS = [
  'instance_id',
  'instanceId',
  'server_id',
  'serverId',
  'resourceId',
  'resource_id',
  'providerInstanceId',
];
const STATE_KEYS = ['state', 'status', 'vm_state'];
const TYPE_KEYS = ['event_type', 'eventType', 'type'];

function pick(obj: unknown, keys: string[]): string | undefined {
  if (!obj || typeof obj !== 'object') return undefined;
  const o = obj as Record<string, unknown>;
  for (const k of keys) {
    const v = o[k] ?? o[`@_${k}`];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

function jsonContent(entry: AtomEntry): Record<string, unknown> | undefined {
  if (typeof entry.content !== 'string') return undefined;
  const looksJson = /json/i.test(entry.contentType ?? '') || /^\s*\{/.test(entry.content);
  if (!looksJson) return undefined;
  try {
    const v: unknown = JSON.parse(entry.content);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An entry as the data of a provider event (see Note [Entry normalisation]). */
export function normaliseEntry(
  feedId: string,
  entry: AtomEntry,
  providerAccountId?: string,
): ProviderEventData {
  let providerInstanceId: string | undefined;
  let eventType: string | undefined;
  let state: string | undefined;

  const json = jsonContent(entry);
  if (json) {
    const payload = json.payload;
    eventType = pick(json, TYPE_KEYS);
    providerInstanceId = pick(payload, INSTANCE_KEYS) ?? pick(json, INSTANCE_KEYS);
    state = pick(payload, STATE_KEYS) ?? pick(json, STATE_KEYS);
  } else if (entry.content && typeof entry.content === 'object') {
    const ev = (entry.content as Record<string, unknown>).event;
    if (ev && typeof ev === 'object') {
      providerInstanceId = pick(ev, INSTANCE_KEYS);
      eventType = pick(ev, TYPE_KEYS);
      state = pick((ev as Record<string, unknown>).product, STATE_KEYS) ?? pick(ev, STATE_KEYS);
    }
  }
  for (const c of entry.categories) {
    const m = /^([A-Za-z_]+):(.+)$/.exec(c.term);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    const k = key.toLowerCase();
    if (k === 'type') eventType ??= value;
    else if (k === 'rid' || k === 'instance' || k === 'server') providerInstanceId ??= value;
    else if (k === 'state' || k === 'status') state ??= value;
  }
  eventType ??= entry.categories.find((c) => !c.term.includes(':'))?.term ?? entry.title;

  const details: Record<string, unknown> = {};
  if (entry.title !== undefined) details.title = entry.title;
  if (entry.summary !== undefined) details.summary = entry.summary;
  if (entry.categories.length) details.categories = entry.categories.map((c) => c.term);
  if (entry.published !== undefined) details.published = entry.published;
  if (json) details.content = json;
  else if (entry.content !== undefined) details.content = entry.content;

  const data: ProviderEventData = { feedId, entryId: entry.id };
  if (providerInstanceId !== undefined) data.providerInstanceId = providerInstanceId;
  if (eventType !== undefined) data.eventType = eventType;
  if (state !== undefined) data.state = state;
  if (entry.updated !== undefined) data.updated = entry.updated;
  if (Object.keys(details).length) data.details = details;
  if (providerAccountId !== undefined) data.providerAccountId = providerAccountId;
  return data;
}

/** The CloudEvent `time` of an entry: its atom:updated when valid, so a re-publish is identical. */
export function entryTime(entry: AtomEntry, fallback: Date): string {
  if (entry.updated && isRfc3339(entry.updated)) return new Date(entry.updated).toISOString();
  return fallback.toISOString();
}

import { CloudEvent, validateCloudEvent, validateMessage } from '@nephele/contracts';

/** `json`: the body as text, the JSON the event was parsed from. */
export type Decoded = { ok: true; event: CloudEvent; json: string } | { ok: false; reason: string };

/** Parses and validates a message body. Never throws: a bad body becomes a dead-letter reason. */
export function decodeMessage(body: Buffer | string, validateData: boolean): Decoded {
  let parsed: unknown;
  const json = typeof body === 'string' ? body : body.toString('utf8');
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    return { ok: false, reason: `malformed JSON: ${(e as Error).message}` };
  }
  const r = validateData ? validateMessage(parsed) : validateCloudEvent(parsed);
  if (!r.ok) {
    return {
      ok: false,
      reason: `invalid CloudEvent: ${r.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    };
  }
  return { ok: true, event: r.value, json };
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Note [Agent identity]
// Every deployable has a random key (`agentKey`, 32 bytes) that only the CPE stores and the DPE
// reads over the core bus. Each assembly incarnation's agent gets its own credential, derived from
// it: credential = HMAC-SHA256(agentKey, "nephele-agent/v1\0" + assemblyId), where the assemblyId
// `<deployable>.<assembly>.<incarnation>` names the generation, so a replacement gets a new one and
// one assembly's credential says nothing about another's. The DPE puts it in the assembly's user
// data (`agentSecret`). The credential is:
//  - the SASL PLAIN password of the agent on an edge that checks it (username = assemblyId;
//    `verifyAgentCredential` is the pure check an edge verifier plugs in with the deployable's key);
//  - the key of an HMAC over every agent-protocol message (`sig`, over the canonical JSON of the
//    body without `sig`). The DPE accepts heartbeats, statuses and refusals only when signed with
//    the credential of the assembly they name; the agent runs only commands signed with its own.
// Because the signature travels in the body, this holds whatever carries the message (the
// all-in-one listener, RabbitMQ's AMQP 1.0 plugin, anything else), and an agent never needs
// the deployable's key: it cannot forge another assembly's messages.

const CREDENTIAL_CONTEXT = 'nephele-agent/v1\0';
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/** A new random deployable key (base64url, 32 bytes). */
export function newAgentKey(): string {
  return randomBytes(32).toString('base64url');
}

/** The credential of one assembly incarnation (see Note [Agent identity]). */
export function agentCredential(agentKey: string, assemblyId: string): string {
  return createHmac('sha256', agentKey)
    .update(CREDENTIAL_CONTEXT + assemblyId)
    .digest('base64url');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// Signatures are 43 ASCII characters (SIGNATURE): compared in two buffers kept for it, not two
// allocated per message (the check is synchronous, so one pair serves every call).
const SIG_A = Buffer.alloc(43);
const SIG_B = Buffer.alloc(43);

function equalSignature(expected: string, sig: string): boolean {
  if (expected.length !== 43 || sig.length !== 43) return false;
  SIG_A.write(expected, 'latin1');
  SIG_B.write(sig, 'latin1');
  return timingSafeEqual(SIG_A, SIG_B);
}

/**
 * Whether `password` is the credential of `assemblyId` under the deployable's key: the pure check
 * an edge listener's SASL PLAIN verifier plugs in (username = assemblyId). Constant time.
 */
export function verifyAgentCredential(agentKey: string, assemblyId: string, password: string): boolean {
  if (typeof password !== 'string' || typeof assemblyId !== 'string') return false;
  return equal(agentCredential(agentKey, assemblyId), password);
}

/** The deployable id an assembly id names (`<deployable>.<assembly>.<n>`), for key lookups. */
export function deployableOfAssembly(assemblyId: string): string | undefined {
  const m = /^([^.]+)\.[^.]+\.\d+$/.exec(assemblyId);
  return m?.[1];
}

/** JSON with object keys sorted, `sig` left out at the top: what a signature covers. */
export function canonicalJson(value: unknown, top = true): string {
  // Loops rather than filter/map/join: every agent message is verified (Note [Heartbeat fast path]).
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) s += (i ? ',' : '') + canonicalJson(value[i], false);
    return s + ']';
  }
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let s = '{';
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || (top && k === 'sig')) continue;
    s += (s.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + canonicalJson(v, false);
  }
  return s + '}';
}

function signatureOf(credential: string, body: unknown): string {
  return createHmac('sha256', credential).update(canonicalJson(body)).digest('base64url');
}

/** The body with its `sig` (HMAC-SHA256 under the assembly credential). */
export function signAgentMessage<T extends object>(credential: string, body: T): T & { sig: string } {
  return { ...body, sig: signatureOf(credential, body) };
}

/** Whether an agent-protocol body carries a valid `sig` under this credential. Never throws. */
export function verifyAgentMessage(credential: string, body: unknown): boolean {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  const sig = (body as { sig?: unknown }).sig;
  if (typeof sig !== 'string' || !SIGNATURE.test(sig)) return false;
  try {
    return equalSignature(signatureOf(credential, body), sig);
  } catch {
    return false;
  }
}

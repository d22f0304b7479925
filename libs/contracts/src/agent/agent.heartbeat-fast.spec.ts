import { validateData } from '../registry';
import { AgentHeartbeat, fastHeartbeat, parseAgentEvent } from './agent.messages';

// Note [Heartbeat fast path]: the fast path may only accept what the full path accepts, and every
// body gets the same answer (value or refusal with its reasons) as from class-validator.

const hb = {
  kind: 'heartbeat',
  assemblyId: 'd1.web.1',
  deployableId: 'd1',
  seq: 7,
  sentAt: '2026-01-01T00:00:00.000Z',
  services: { db: 'running', 'web.1': 'stopped', x_y: 'failed' },
  epoch: 3,
  sig: 'a'.repeat(43),
};
const { epoch: _e, sig: _s, ...bare } = hb;

const valid: [string, unknown][] = [
  ['a full heartbeat', hb],
  ['one without epoch and sig', bare],
  ['one without services', { ...hb, services: {} }],
  ['seq and epoch 0', { ...hb, seq: 0, epoch: 0 }],
  ['sentAt without milliseconds', { ...hb, sentAt: '2026-01-01T00:00:00Z' }],
  ['sentAt with an offset', { ...hb, sentAt: '2026-01-01T00:00:00+02:00' }],
  ['ids of 200 characters', { ...hb, assemblyId: 'a'.repeat(200), deployableId: 'd'.repeat(200) }],
  ['a sig of 100 characters', { ...hb, sig: 's'.repeat(100) }],
  ['a huge seq', { ...hb, seq: 2 ** 53 }],
];

const invalid: [string, unknown][] = [
  ['null', null],
  ['an array', [hb]],
  ['a string', 'heartbeat'],
  ['another kind', { ...hb, kind: 'heartbeats' }],
  ['no kind', { ...hb, kind: undefined }],
  ['an unknown field', { ...hb, extra: 1 }],
  ['a constructor field', { ...hb, constructor: 1 }],
  ['a long assemblyId', { ...hb, assemblyId: 'a'.repeat(201) }],
  ['a numeric assemblyId', { ...hb, assemblyId: 1 }],
  ['no deployableId', { ...hb, deployableId: undefined }],
  ['a negative seq', { ...hb, seq: -1 }],
  ['a fractional seq', { ...hb, seq: 1.5 }],
  ['a string seq', { ...hb, seq: '1' }],
  ['a NaN seq', { ...hb, seq: NaN }],
  ['a bad sentAt', { ...hb, sentAt: 'yesterday' }],
  ['a numeric sentAt', { ...hb, sentAt: 1 }],
  ['sentAt with month 13', { ...hb, sentAt: '2026-13-01T00:00:00Z' }],
  ['services null', { ...hb, services: null }],
  ['services an array', { ...hb, services: ['running'] }],
  ['no services', { ...hb, services: undefined }],
  ['a bad service state', { ...hb, services: { db: 'dancing' } }],
  ['a non-string service state', { ...hb, services: { db: 1 } }],
  ['a bad service name', { ...hb, services: { '-db': 'running' } }],
  ['a __proto__ service', JSON.parse('{"services":{"__proto__":"running"}}')],
  ['a negative epoch', { ...hb, epoch: -1 }],
  ['a null epoch (optional: valid, by the full path)', { ...hb, epoch: null }],
  ['a null sig (optional: valid, by the full path)', { ...hb, sig: null }],
  ['a long sig', { ...hb, sig: 's'.repeat(101) }],
  ['a numeric sig', { ...hb, sig: 1 }],
  ['another prototype', Object.assign(Object.create({ inherited: 1 }), hb)],
  [
    'too many services',
    { ...hb, services: Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`s${i}`, 'running'])) },
  ],
];

const full = (body: unknown) => validateData(AgentHeartbeat, body, 'body');

describe('heartbeat fast path', () => {
  it.each(valid)('takes %s, as the full path accepts it', (_what, body) => {
    expect(fastHeartbeat(body)).toBe(body);
    const f = full(body);
    expect(f.ok).toBe(true);
    const r = parseAgentEvent(body);
    expect(r.ok && { ...r.value }).toEqual(f.ok && { ...f.value });
  });

  it.each(invalid)('leaves %s to the full path, with the same answer', (_what, body) => {
    expect(fastHeartbeat(body)).toBeUndefined();
    const r = parseAgentEvent(body);
    if (body !== null && typeof body === 'object' && (body as { kind?: unknown }).kind === 'heartbeat')
      expect(r).toEqual(full(body));
    else expect(r.ok).toBe(false);
  });

  it('accepts a JSON-parsed heartbeat (what the edge hands over)', () => {
    const body: unknown = JSON.parse(JSON.stringify(hb));
    expect(fastHeartbeat(body)).toBe(body);
  });

  it('agrees with the full path on random mutations of a heartbeat', () => {
    const values: unknown[] = [
      null,
      -1,
      0,
      1.5,
      2 ** 31,
      '',
      'x',
      'running',
      '2026-01-01T00:00:00Z',
      {},
      [],
      true,
    ];
    const keys = [...Object.keys(hb), 'other'];
    let seed = 42;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 2000; i++) {
      const body: Record<string, unknown> = { ...hb, services: { ...hb.services } };
      for (let j = rnd(3); j >= 0; j--) {
        const k = keys[rnd(keys.length)]!;
        if (rnd(4) === 0) delete body[k];
        else if (rnd(3) === 0) (body.services as Record<string, unknown>)[k] = values[rnd(values.length)];
        else body[k] = values[rnd(values.length)];
      }
      const f = full(body);
      if (fastHeartbeat(body)) expect(f.ok).toBe(true);
      const r = parseAgentEvent(body);
      if (body.kind === 'heartbeat') expect(r.ok).toBe(f.ok);
      if (!f.ok && body.kind === 'heartbeat') expect(r).toEqual(f);
    }
  });
});

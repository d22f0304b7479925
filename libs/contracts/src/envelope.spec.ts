import {
  createEvent,
  validateCloudEvent,
  validateMessage,
  allMessageDefinitions,
  findMessageDefinition,
} from './index';

const valid = {
  specversion: '1.0',
  id: 'a1',
  source: '/nephele/test',
  type: 'com.example.thing',
  time: '2026-11-21T10:00:00Z',
  data: { x: 1 },
};

describe('validateCloudEvent', () => {
  it('accepts a minimal valid event', () => {
    expect(validateCloudEvent(valid)).toEqual({ ok: true, value: valid });
  });

  it.each([
    [{ ...valid, specversion: '0.3' }, 'specversion'],
    [{ ...valid, id: '' }, 'id'],
    [{ ...valid, id: undefined }, 'id'],
    [{ ...valid, source: 42 }, 'source'],
    [{ ...valid, type: 'has spaces' }, 'type'],
    [{ ...valid, time: 'yesterday' }, 'time'],
    [{ ...valid, traceparent: 'nope' }, 'traceparent'],
    [{ ...valid, data_base64: 'AA==' }, 'data'],
    [{ ...valid, 'Bad-Ext': 1 }, 'Bad-Ext'],
  ])('refuses %j naming field %s', (input, field) => {
    const r = validateCloudEvent(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field)).toContain(field);
  });

  it.each([null, 1, 'x', [], true])('refuses non-objects (%j)', (input) => {
    expect(validateCloudEvent(input).ok).toBe(false);
  });

  it('reports every problem at once', () => {
    const r = validateCloudEvent({ specversion: '2', type: '' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field).sort()).toEqual(['id', 'source', 'specversion', 'type']);
  });
});

describe('validateMessage', () => {
  it('checks the data of a registered type', () => {
    const ev = createEvent('tracker', 'nephele.instance.state_changed', { instanceId: 'i', to: 'flying' });
    const r = validateMessage(ev);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.errors.map((e) => e.field)).toEqual(expect.arrayContaining(['data.to', 'data.reason']));
  });

  it('refuses unknown properties in data', () => {
    const ev = createEvent('x', 'nephele.group.scaled', {
      groupId: 'g',
      from: 1,
      to: 2,
      reason: 'r',
      extra: 1,
    });
    const r = validateMessage(ev);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.field).toBe('data.extra');
  });

  it('matches the audit family by prefix', () => {
    expect(findMessageDefinition('nephele.audit.pool.create')?.type).toBe('nephele.audit.*');
    const ev = createEvent('config-api', 'nephele.audit.pool.create', {
      actor: 't',
      action: 'create',
      resource: 'pools',
    });
    expect(validateMessage(ev).ok).toBe(true);
  });

  it('passes unregistered types unless asked to refuse them', () => {
    const ev = createEvent('x', 'com.example.custom', { any: 'thing' });
    expect(validateMessage(ev).ok).toBe(true);
    expect(validateMessage(ev, { requireKnownType: true }).ok).toBe(false);
  });

  it('registers every minimum event type of ARCHITECTURE §1', () => {
    const types = allMessageDefinitions().map((d) => d.type);
    for (const t of [
      'nephele.config.changed',
      'nephele.instance.state_changed',
      'nephele.instance.vanished',
      'nephele.instance.orphan_detected',
      'nephele.assembly.heartbeat',
      'nephele.assembly.heartbeat_missed',
      'nephele.assembly.failed',
      'nephele.assembly.recovered',
      'nephele.service.failed',
      'nephele.service.started',
      'nephele.service.stopped',
      'nephele.deployable.status_changed',
      'nephele.dpe.started',
      'nephele.dpe.heartbeat',
      'nephele.dpe.died',
      'nephele.group.scaled',
      'nephele.policy.executed',
      'nephele.webhook.delivered',
      'nephele.audit.*',
    ]) {
      expect(types).toContain(t);
    }
  });
});

describe('createEvent', () => {
  it('builds a valid envelope with a uuid id and /nephele source', () => {
    const ev = createEvent('event-log', 'nephele.config.changed', {
      resource: 'pools',
      id: 'p',
      action: 'created',
    });
    expect(ev.source).toBe('/nephele/event-log');
    expect(ev.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(validateMessage(ev).ok).toBe(true);
  });

  it('carries the project extension attribute only when there is one', () => {
    const data = { resource: 'pools', id: 'p', action: 'created' };
    const tagged = createEvent('scaler', 'nephele.config.changed', data, { project: 'p-1' });
    expect(tagged.project).toBe('p-1');
    expect(validateCloudEvent(tagged).ok).toBe(true);
    expect('project' in createEvent('scaler', 'nephele.config.changed', data, { project: null })).toBe(false);
    expect(validateCloudEvent({ ...tagged, project: { id: 'x' } })).toEqual({
      ok: false,
      errors: [{ field: 'project', message: 'project must be a non-empty string' }],
    });
  });
});

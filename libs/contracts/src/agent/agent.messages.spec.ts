import { parseAgentCommand, parseAgentEvent } from './agent.messages';

const command = {
  kind: 'command',
  action: 'start',
  requestId: 'r1',
  epoch: 3,
  service: {
    name: 'db',
    class: 'ocf',
    provider: 'heartbeat',
    type: 'Dummy',
    parameters: { state: '/tmp/db.state' },
    monitor: { intervalMs: 1000, timeoutMs: 5000 },
  },
};

describe('agent protocol', () => {
  it('accepts a well-formed command', () => {
    const r = parseAgentCommand(command);
    expect(r.ok).toBe(true);
  });

  it.each([
    ['a path in the OCF type', { ...command, service: { ...command.service, type: '../../bin/sh' } }, 'type'],
    [
      'a bad parameter name',
      { ...command, service: { ...command.service, parameters: { 'a-b': 'x' } } },
      'parameters',
    ],
    [
      'a non-string parameter',
      { ...command, service: { ...command.service, parameters: { a: 1 } } },
      'parameters',
    ],
    [
      'a process without command',
      { ...command, service: { name: 'p', class: 'process', monitor: { intervalMs: 0, timeoutMs: 1 } } },
      'command',
    ],
    ['an unknown field', { ...command, extra: 1 }, 'extra'],
    ['a negative epoch', { ...command, epoch: -1 }, 'epoch'],
    ['an unknown action', { ...command, action: 'reboot' }, 'action'],
  ])('refuses %s', (_what, body, field) => {
    const r = parseAgentCommand(body);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.map((e) => e.field).join(' ')).toContain(field);
  });

  it('refuses what is not an object, without throwing', () => {
    for (const body of [null, 'x', 3, [], undefined]) expect(parseAgentCommand(body).ok).toBe(false);
  });

  it('validates events by kind', () => {
    const hb = {
      kind: 'heartbeat',
      assemblyId: 'a',
      deployableId: 'd',
      seq: 1,
      sentAt: '2026-01-01T00:00:00.000Z',
      services: { db: 'running' },
    };
    expect(parseAgentEvent(hb).ok).toBe(true);
    expect(parseAgentEvent({ ...hb, services: { db: 'dancing' } }).ok).toBe(false);
    expect(parseAgentEvent({ ...hb, kind: 'nope' }).ok).toBe(false);
  });
});

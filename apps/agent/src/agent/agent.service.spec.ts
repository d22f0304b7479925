import { agentCredential, signAgentMessage, verifyAgentMessage } from '@nephele/contracts';
import { ServiceAdapter } from '../services/service-adapter.types';
import { AgentService } from './agent.service';
import { ServiceSupervisor } from './service-supervisor';

const started: string[] = [];
const adapter: ServiceAdapter = {
  start: async (s) => (started.push(s.name), { state: 'running', reason: 'started' }),
  stop: async () => ({ state: 'stopped', reason: 'stopped' }),
  monitor: async () => ({ state: 'running', reason: 'ok' }),
};
const credential = agentCredential('deployable-key', 'd1.a1.1');
const command = (extra: object = {}) => ({
  kind: 'command',
  action: 'start',
  requestId: `r-${Math.random()}`,
  epoch: 3,
  service: { name: 'a1.web', class: 'process', command: 'true', monitor: { intervalMs: 0, timeoutMs: 1000 } },
  issuedAt: new Date().toISOString(),
  ...extra,
});

describe(AgentService.name, () => {
  let sut: AgentService;
  beforeEach(() => {
    started.length = 0;
    const supervisor = new ServiceSupervisor({
      process: adapter,
      ocf: adapter,
      lsb: adapter,
      systemd: adapter,
    });
    sut = new AgentService(
      { assemblyId: 'd1.a1.1', deployableId: 'd1' },
      supervisor,
      undefined,
      undefined,
      credential,
    );
  });

  it('runs only commands signed with its credential; a forgery neither runs nor raises the epoch', async () => {
    const forged = await sut.handle(command({ epoch: 2 ** 31 - 1 }));
    expect(forged).toMatchObject({ kind: 'command-refused', highestEpoch: 0 });
    const otherAssembly = await sut.handle(
      signAgentMessage(agentCredential('deployable-key', 'd1.a2.1'), command()),
    );
    expect(otherAssembly.kind).toBe('command-refused');
    const tampered = { ...signAgentMessage(credential, command()), epoch: 99 };
    expect((await sut.handle(tampered)).kind).toBe('command-refused');
    expect(started).toEqual([]);
    const ok = await sut.handle(signAgentMessage(credential, command()));
    expect(ok).toMatchObject({ kind: 'service-status', state: 'running', epoch: 3 });
    expect(sut.highestEpoch).toBe(3);
    expect(started).toEqual(['a1.web']);
  });

  it('refuses a signed command issued long ago (a replay)', async () => {
    const old = signAgentMessage(credential, command({ issuedAt: '2020-01-01T00:00:00Z' }));
    expect(await sut.handle(old)).toMatchObject({
      kind: 'command-refused',
      reason: expect.stringMatching(/too old/),
    });
  });

  it('signatures cover the canonical body whatever the key order', () => {
    const body = { b: 1, a: { y: [1, { z: 2 }], x: 'q' } };
    const signed = signAgentMessage(credential, body);
    expect(verifyAgentMessage(credential, { a: { x: 'q', y: [1, { z: 2 }] }, sig: signed.sig, b: 1 })).toBe(
      true,
    );
    expect(verifyAgentMessage(credential, { ...signed, b: 2 })).toBe(false);
  });
});

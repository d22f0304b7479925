import { loadAgentConfig } from './env';

describe(loadAgentConfig.name, () => {
  it('reads identity and edge from the environment, with defaults', () => {
    const c = loadAgentConfig({ NEPHELE_ASSEMBLY_ID: 'a1', NEPHELE_DEPLOYABLE_ID: 'd1' });
    expect(c).toMatchObject({
      assemblyId: 'a1',
      deployableId: 'd1',
      edgeUrl: 'amqp://127.0.0.1:5673',
      heartbeatIntervalMs: 5000,
      ocfRoot: '/usr/lib/ocf',
      lsbDir: '/etc/init.d',
      port: 0,
    });
  });

  it('takes identity from NEPHELE_USER_DATA (JSON or base64), explicit variables winning', () => {
    const ud = {
      assemblyId: 'a2',
      deployableId: 'd2',
      agentSecret: 's',
      amqp10Url: 'amqp://h:5673',
      heartbeatInterval: '1s',
    };
    expect(loadAgentConfig({ NEPHELE_USER_DATA: JSON.stringify(ud) })).toMatchObject({
      assemblyId: 'a2',
      deployableId: 'd2',
      secret: 's',
      edgeUrl: 'amqp://h:5673',
      heartbeatIntervalMs: 1000,
    });
    const b64 = Buffer.from(JSON.stringify(ud)).toString('base64');
    expect(loadAgentConfig({ NEPHELE_USER_DATA: b64, NEPHELE_ASSEMBLY_ID: 'mine' }).assemblyId).toBe('mine');
  });

  it("reads the identity line of Nephele's #cloud-config user data", () => {
    const id = { assemblyId: 'd.a.1', deployableId: 'd', agentSecret: 'k', amqp10Url: 'amqp://h:1' };
    const ud = `#cloud-config\n# nephele-agent-identity: ${Buffer.from(JSON.stringify(id)).toString('base64')}\nruncmd: []\n`;
    expect(loadAgentConfig({ NEPHELE_USER_DATA: ud })).toMatchObject({
      assemblyId: 'd.a.1',
      deployableId: 'd',
      secret: 'k',
      edgeUrl: 'amqp://h:1',
    });
    expect(() => loadAgentConfig({ NEPHELE_USER_DATA: '#cloud-config\nruncmd: []\n' })).toThrow(
      /nephele-agent-identity/,
    );
  });

  it('lists every bad variable at once', () => {
    expect(() =>
      loadAgentConfig({
        NEPHELE_ASSEMBLY_ID: '../x',
        AMQP10_URL: 'http://x',
        NEPHELE_HEARTBEAT_INTERVAL: 'soon',
      }),
    ).toThrow(
      /NEPHELE_ASSEMBLY_ID[\s\S]*NEPHELE_DEPLOYABLE_ID[\s\S]*AMQP10_URL[\s\S]*NEPHELE_HEARTBEAT_INTERVAL/,
    );
    expect(() => loadAgentConfig({ NEPHELE_USER_DATA: '{not json' })).toThrow(/NEPHELE_USER_DATA/);
    expect(() =>
      loadAgentConfig({ NEPHELE_ASSEMBLY_ID: 'a', NEPHELE_DEPLOYABLE_ID: 'd', PORT: 'x' }),
    ).toThrow(/PORT/);
  });
});

import { agentCredential, canonicalJson, signAgentMessage, verifyAgentMessage } from './agent-identity';

describe('agent identity', () => {
  const cred = agentCredential('k'.repeat(43), 'd.web.1');

  it('writes canonical JSON: keys sorted, undefined left out, sig left out at the top only', () => {
    const body = { z: 1, a: [3, { y: undefined, b: 'x', a: null }], sig: 's', m: { sig: 't', c: true } };
    expect(canonicalJson(body)).toBe('{"a":[3,{"a":null,"b":"x"}],"m":{"c":true,"sig":"t"},"z":1}');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson({ sig: 'only' })).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('verifies its own signatures and refuses a tampered body or signature', () => {
    const signed = signAgentMessage(cred, { kind: 'heartbeat', seq: 1, services: { db: 'running' } });
    expect(verifyAgentMessage(cred, signed)).toBe(true);
    expect(verifyAgentMessage(cred, { ...signed, seq: 2 })).toBe(false);
    expect(verifyAgentMessage(agentCredential('k'.repeat(43), 'd.web.2'), signed)).toBe(false);
    const other = signed.sig.endsWith('A') ? 'B' : 'A';
    expect(verifyAgentMessage(cred, { ...signed, sig: signed.sig.slice(0, 42) + other })).toBe(false);
    expect(verifyAgentMessage(cred, { ...signed, sig: signed.sig.slice(0, 42) })).toBe(false);
    expect(verifyAgentMessage(cred, { ...signed, sig: `${signed.sig.slice(0, 42)}é` })).toBe(false);
    expect(verifyAgentMessage(cred, { ...signed, sig: undefined })).toBe(false);
  });
});

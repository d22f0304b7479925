import { generateMasterKey } from '@nephele/crypto';
import { loadConfigApiConfig } from './env';

describe(loadConfigApiConfig.name, () => {
  it('defaults to port 8081 and starts without a master key', () => {
    expect(loadConfigApiConfig({})).toMatchObject({ port: 8081, logLevel: 'info', masterKey: undefined });
  });

  it('accepts a rotation list of master keys', () => {
    const keys = `${generateMasterKey()},${generateMasterKey()}`;
    expect(loadConfigApiConfig({ NEPHELE_MASTER_KEY: keys }).masterKey).toBe(keys);
  });

  it('fails fast naming each bad variable', () => {
    expect(() => loadConfigApiConfig({ NEPHELE_MASTER_KEY: 'short' })).toThrow(
      /NEPHELE_MASTER_KEY: .*32 bytes/,
    );
    expect(() => loadConfigApiConfig({ PORT: 'x', LOG_LEVEL: 'loud' })).toThrow(
      /PORT[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/,
    );
  });
});

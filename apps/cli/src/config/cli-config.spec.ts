import { UsageError } from '../errors.util';
import { configPathOf, resolveSettings } from './cli-config';

describe('CLI settings', () => {
  it('finds the config file: $NEPHELE_CONFIG, else XDG, else ~/.config', () => {
    expect(configPathOf({ NEPHELE_CONFIG: '/etc/n.json', HOME: '/home/u' })).toBe('/etc/n.json');
    expect(configPathOf({ XDG_CONFIG_HOME: '/x', HOME: '/home/u' })).toBe('/x/nephele/config.json');
    expect(configPathOf({ HOME: '/home/u' })).toBe('/home/u/.config/nephele/config.json');
  });

  it('takes flags over the environment over the config file', () => {
    const stored = { url: 'http://file:1', token: 'file-token', project: 'file-project' };
    const env = { NEPHELE_URL: 'http://env:2', NEPHELE_TOKEN: 'env-token' };
    expect(resolveSettings({}, {}, stored, '/c')).toMatchObject({
      url: 'http://file:1',
      token: 'file-token',
      tokenSource: 'config',
      project: 'file-project',
      output: 'table',
    });
    expect(resolveSettings({}, env, stored, '/c')).toMatchObject({
      url: 'http://env:2',
      token: 'env-token',
      tokenSource: 'env',
    });
    expect(
      resolveSettings({ url: 'http://flag:3/', token: 'flag-token', output: 'json' }, env, stored, '/c'),
    ).toMatchObject({ url: 'http://flag:3', token: 'flag-token', tokenSource: 'flag', output: 'json' });
  });

  it('defaults to localhost:8080 without a token', () => {
    expect(resolveSettings({}, {}, {}, '/c')).toMatchObject({
      url: 'http://localhost:8080',
      token: undefined,
      tokenSource: 'none',
    });
  });

  it('refuses a bad URL or output format as usage errors', () => {
    expect(() => resolveSettings({ url: 'localhost:8080' }, {}, {}, '/c')).toThrow(UsageError);
    expect(() => resolveSettings({ url: 'ftp://x' }, {}, {}, '/c')).toThrow('only http and https');
    expect(() => resolveSettings({ output: 'xml' }, {}, {}, '/c')).toThrow(
      '--output must be one of table, wide, json, yaml',
    );
  });
});

import { loadConsoleConfig } from './env';

describe(loadConsoleConfig.name, () => {
  it('defaults to port 8088 and the API on the same origin', () => {
    expect(loadConsoleConfig({})).toEqual({ port: 8088, logLevel: 'info', apiUrl: '' });
  });

  it('takes NEPHELE_API_URL without its trailing slash', () => {
    expect(loadConsoleConfig({ NEPHELE_API_URL: 'https://nephele.example.com/' }).apiUrl).toBe(
      'https://nephele.example.com',
    );
    expect(loadConsoleConfig({ NEPHELE_API_URL: 'http://gateway:8080' }).apiUrl).toBe('http://gateway:8080');
  });

  it('refuses an API URL that is not an absolute http(s) URL', () => {
    expect(() => loadConsoleConfig({ NEPHELE_API_URL: 'gateway:8080' })).toThrow(/NEPHELE_API_URL/);
  });
});

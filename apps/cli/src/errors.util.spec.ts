import { NepheleApiError } from '@nephele/client';
import { CliError, describeError, redact, UsageError } from './errors.util';

const URL = 'http://localhost:8080';

describe('describeError', () => {
  it('shows problem details with one "field: message" line per field error', () => {
    const e = new NepheleApiError(
      400,
      {
        title: 'Bad Request',
        status: 400,
        detail: 'invalid deployable',
        errors: [{ field: 'assemblies[0].image', message: 'image must be a string' }],
      },
      'POST',
      '/v1/deployables',
    );
    expect(describeError(e, URL)).toEqual({
      lines: [
        'error: Bad Request: invalid deployable (HTTP 400)',
        '  assemblies[0].image: image must be a string',
      ],
      exitCode: 1,
    });
  });

  it('says "not found" for a 404', () => {
    const e = (detail: string) =>
      new NepheleApiError(404, { title: 'Not Found', status: 404, detail }, 'GET', '/v1/deployables/x');
    expect(describeError(e('deployable x not found'), URL).lines).toEqual([
      'error: deployable "x" not found',
    ]);
    expect(describeError(e('no such thing'), URL).lines).toEqual([
      'error: not found: no such thing (HTTP 404)',
    ]);
  });

  it('gives a hint for 401', () => {
    const e = new NepheleApiError(
      401,
      { title: 'Unauthorized', status: 401, detail: 'missing bearer token' },
      'GET',
      '/',
    );
    expect(describeError(e, URL).lines).toEqual([
      'error: Unauthorized: missing bearer token (HTTP 401)',
      'hint: give a valid token with --token, NEPHELE_TOKEN or `nephele login`',
    ]);
  });

  it('names the URL it cannot reach', () => {
    const e = new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    expect(describeError(e, URL).lines[0]).toBe(
      'error: cannot reach Nephele at http://localhost:8080 (ECONNREFUSED)',
    );
  });

  it('keeps the exit code of CLI errors: 2 for usage', () => {
    expect(describeError(new UsageError('bad', ['--x: required']), URL)).toEqual({
      lines: ['error: bad', '  --x: required'],
      exitCode: 2,
    });
    expect(describeError(new CliError('pool "x" not found'), URL).exitCode).toBe(1);
  });
});

describe('redact', () => {
  it('replaces every occurrence of the secret', () => {
    expect(redact('a sekrit-token b sekrit-token', 'sekrit-token')).toBe('a *** b ***');
    expect(redact('unchanged', undefined)).toBe('unchanged');
  });
});

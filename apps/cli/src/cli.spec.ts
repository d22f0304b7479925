import { CliIo } from './cli-context';
import { run } from './cli';

/** Runs a command line that must fail or finish before any request (no server here). */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    stdin: () => '',
    now: () => new Date('2026-01-31T12:00:00Z'),
  };
  const code = await run(
    argv,
    { NEPHELE_URL: 'http://127.0.0.1:9', NEPHELE_CONFIG: '/nonexistent/nephele.json' },
    io,
  );
  return { code, out, err };
}

describe('nephele command line', () => {
  it('prints help and the version with exit 0', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('deployable');
    expect(help.out).toContain('Exit codes');
    expect(await cli('--version')).toMatchObject({ code: 0, out: '0.1.0\n' });
  });

  it.each([
    [['pool'], 'Usage: nephele pool'],
    [['pool', 'list', '--bogus'], "unknown option '--bogus'"],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['-o', 'xml', 'pool', 'list'], "argument 'xml' is invalid"],
    [['deployable', 'apply'], "required option '-f, --file <file>' not specified"],
    [['deployable', 'status'], "missing required argument 'ref'"],
    [['deployable', 'watch', 'shop', '--timeout', 'soon'], '--timeout must be a duration'],
    [['events', 'list', '--since', 'yesterday'], '--since must be RFC 3339'],
    [['profile', 'create', '--name', 'x', '--cpu', '4..2'], '--cpu: the minimum 4 is above the maximum 2'],
    [['pool', 'create', '--name', 'x'], 'error: missing --family'],
    [['--url', 'not a url', 'pool', 'list'], 'invalid URL "not a url"'],
  ])('exits 2 on the usage error %j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.err).toContain(message);
    expect(r.code).toBe(2);
  });
});

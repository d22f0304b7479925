import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readAppEnvs, readCliEnv, renderConfigReference, undocumented } from './config-reference';

const repo = path.resolve(__dirname, '../../..');

describe('configuration reference', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'docs-env-'));
    mkdirSync(path.join(root, 'libs/service-kit/src'), { recursive: true });
    mkdirSync(path.join(root, 'apps/demo/src/config'), { recursive: true });
    writeFileSync(
      path.join(root, 'libs/service-kit/src/env.ts'),
      `export const LOG_LEVELS = ['info', 'debug'] as const;
       export class ServiceEnv {
         /** PostgreSQL; unset → embedded. */
         @IsOptional() @IsString() DATABASE_URL?: string = undefined;
         @IsIn(LOG_LEVELS) LOG_LEVEL: string = 'info';
       }`,
    );
    writeFileSync(
      path.join(root, 'apps/demo/src/config/env.ts'),
      `/** The demo service. */
       export class DemoEnv extends ServiceEnv {
         @IsInt() @Min(0) @Max(65535) PORT = 8090;
         /** How long to wait. */
         @IsInt() @Min(10) DEMO_WAIT_MS = 60_000;
         @IsBoolean() DEMO_ON = false;
         @IsString() DEMO_SECRETLESS = '';
         @IsOptional() @IsString() DEMO_UNDOCUMENTED?: string = undefined;
       }`,
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads every variable with its constraint, default and meaning, inherited ones last', () => {
    const [demo] = readAppEnvs(root);
    expect(demo.app).toBe('demo');
    expect(demo.doc).toBe('The demo service.');
    expect(demo.variables.map((v) => [v.name, v.constraint, v.default, v.meaning.slice(0, 20)])).toEqual([
      ['PORT', 'integer 0–65535', '`8090`', 'HTTP port: the REST '],
      ['DEMO_WAIT_MS', 'integer ≥ 10', '`60000`', 'How long to wait.'],
      ['DEMO_ON', 'boolean (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`)', '`false`', ''],
      ['DEMO_SECRETLESS', 'string', '`""` (empty)', ''],
      ['DEMO_UNDOCUMENTED', 'string', 'unset', ''],
      ['DATABASE_URL', 'string', 'unset', 'PostgreSQL; unset → '],
      ['LOG_LEVEL', 'one of `info`, `debug`', '`info`', 'pino log level; logs'],
    ]);
    expect(undocumented([demo], [])).toEqual([
      'demo: DEMO_ON',
      'demo: DEMO_SECRETLESS',
      'demo: DEMO_UNDOCUMENTED',
    ]);
    const md = renderConfigReference([demo], []);
    expect(md).toContain('| `DEMO_WAIT_MS` | integer ≥ 10 | `60000` | How long to wait. |');
    expect(md).toContain('| `DEMO_UNDOCUMENTED` | string | unset | *(undocumented)* |');
  });

  it('covers every app of the repository, each variable with a meaning', () => {
    const apps = readAppEnvs(repo);
    expect(apps.map((a) => a.app)).toEqual(
      expect.arrayContaining([
        'agent',
        'cloud-policy-engine',
        'config-api',
        'event-log',
        'nephele',
        'scaler',
      ]),
    );
    const eventLog = apps.find((a) => a.app === 'event-log')!;
    expect(eventLog.variables.find((v) => v.name === 'EVENT_LOG_RETENTION_DAYS')).toMatchObject({
      default: '`30`',
      meaning: 'Days of events kept; older day partitions are dropped.',
    });
    expect(eventLog.variables.map((v) => v.name)).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'AMQP_URL']),
    );
    expect(readCliEnv(repo).map((v) => v.name)).toContain('NEPHELE_TOKEN');
  });
});

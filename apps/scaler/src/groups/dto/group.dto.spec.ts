import { FieldError } from '@nephele/contracts';
import { createValidationPipe } from '@nephele/service-kit';
import { PolicyDto } from '../../policies/dto/policy.dto';
import { failIfErrors, groupConfigInput, launchConfigInput, policyInput } from '../group.inputs';
import { CreateGroupDto, GroupConfigDto, LaunchConfigDto, PutLaunchConfigDto, urlProblem } from './group.dto';

const now = new Date('2026-01-01T00:00:00Z');
const pipe = createValidationPipe();

/** The body through the global ValidationPipe: the DTO, or the fields its 400 names. */
async function check<T>(metatype: new () => T, body: unknown): Promise<{ dto?: T; errors: FieldError[] }> {
  try {
    return { dto: (await pipe.transform(body, { type: 'body', metatype })) as T, errors: [] };
  } catch (e) {
    return { errors: (e as { getResponse(): { errors: FieldError[] } }).getResponse().errors };
  }
}
const fields = (errors: FieldError[]) => errors.map((e) => e.field);

describe('group request DTOs', () => {
  it('accepts a full group config; the service fills in the defaults', async () => {
    const { dto, errors } = await check(GroupConfigDto, { name: 'web', minEntities: 1 });
    expect(errors).toEqual([]);
    const e: FieldError[] = [];
    expect(groupConfigInput(dto!, 1000, '', e)).toMatchObject({
      name: 'web',
      minEntities: 1,
      maxEntities: 1000,
      cooldown: 0,
      metadata: {},
      terminationPolicy: 'oldest',
      terminationWebhook: null,
    });
    expect(e).toEqual([]);
  });

  it.each([
    [{ name: 'x', minEntities: 3, maxEntities: 2 }, 'maxEntities'],
    [{ name: 'x', minEntities: -1, maxEntities: 2 }, 'minEntities'],
    [{ name: 'x', minEntities: 0, maxEntities: 2, cooldown: 1.5 }, 'cooldown'],
    [{ name: 'x', minEntities: 0, maxEntities: 2, metadata: { a: 1 } }, 'metadata'],
    [{ name: 'x', minEntities: 0, serverReadyWebhook: { url: 'ftp://x' } }, 'serverReadyWebhook.url'],
    [
      { name: 'x', minEntities: 0, serverReadyWebhook: { url: 'http://x', secret: 'short' } },
      'serverReadyWebhook.secret',
    ],
    [{ name: 'x', minEntities: 0, serverReadyWebhook: 'http://x' }, 'serverReadyWebhook'],
    [{ name: 'x', minEntities: 0, terminationPolicy: 'custom' }, 'terminationWebhook'],
    [
      {
        name: 'x',
        minEntities: 0,
        metricSources: [
          { metric: 'a', prometheusQueryUrl: 'http://p' },
          { metric: 'a', prometheusQueryUrl: 'http://q' },
        ],
      },
      'metricSources',
    ],
    [{ name: 'x', minEntities: 0, what: 1 }, 'what'],
  ])('refuses %j naming %s, once', async (input, field) => {
    const { errors } = await check(GroupConfigDto, input);
    expect(fields(errors)).toEqual([field]);
  });

  it('names a metadata entry in its message', async () => {
    const { errors } = await check(GroupConfigDto, { name: 'x', minEntities: 0, metadata: { a: 1 } });
    expect(errors[0]!.message).toBe('a: must be a string of at most 1024 characters');
  });

  it('checks the configured limit and balancers in the service', async () => {
    const { dto } = await check(CreateGroupDto, {
      config: { name: 'x', minEntities: 0, maxEntities: 1001 },
      launchConfig: { image: 'i', hardwareProfile: 'h', loadBalancers: [{ id: 'x', port: 80 }] },
    });
    const errors: FieldError[] = [];
    groupConfigInput(dto!.config, 1000, 'config.', errors);
    launchConfigInput(dto!.launchConfig, new Set(['front']), 'launchConfig.', errors);
    expect(fields(errors)).toEqual(['config.maxEntities', 'launchConfig.loadBalancers[0].id']);
    expect(() => failIfErrors(errors)).toThrow();
  });

  it('refuses control characters in names and references, allows lines in user data', async () => {
    const ok = await check(LaunchConfigDto, {
      image: 'i',
      hardwareProfile: 'h',
      userData: '#!/bin/sh\n\techo hi\r\n',
    });
    expect(ok.errors).toEqual([]);
    const { errors } = await check(LaunchConfigDto, {
      image: 'debian\u0000',
      hardwareProfile: 'small\n',
      userData: 'a\u0000b',
    });
    expect(errors).toEqual([
      { field: 'image', message: 'must not contain control characters' },
      { field: 'hardwareProfile', message: 'must not contain control characters' },
      { field: 'userData', message: 'must not contain control characters' },
    ]);
  });

  it('takes a refresh spec or false with a launch config', async () => {
    const base = { image: 'i', hardwareProfile: 'h' };
    expect((await check(PutLaunchConfigDto, { ...base, refresh: false })).errors).toEqual([]);
    expect(
      (await check(PutLaunchConfigDto, { ...base, refresh: { batchSize: 2 } })).dto!.refresh,
    ).toMatchObject({ batchSize: 2 });
    expect(fields((await check(PutLaunchConfigDto, { ...base, refresh: { batchSize: 0 } })).errors)).toEqual([
      'refresh.batchSize',
    ]);
    expect(fields((await check(PutLaunchConfigDto, { ...base, refresh: true })).errors)).toEqual(['refresh']);
  });

  it('checks policies with the domain rules, args typed by the policy type', async () => {
    const { dto, errors } = await check(PolicyDto, { name: 'p', type: 'webhook', change: 1, cooldown: 60 });
    expect(errors).toEqual([]);
    const e: FieldError[] = [];
    expect(policyInput(dto!, now, '', e)).toMatchObject({ cooldown: 60, change: 1 });
    const cases: [unknown, string[]][] = [
      [{ name: 'p', type: 'schedule', change: 1, args: { cron: '* * *' } }, ['args.cron']],
      [{ name: 'p', type: 'schedule', change: 1 }, ['args']],
      [
        { name: 'p', type: 'schedule', change: 1, args: { cron: '0 9 * * *', at: '2030-01-01T00:00:00Z' } },
        ['args'],
      ],
      [{ name: 'p', type: 'alarm', change: 1, args: { alarmCriteria: {} } }, ['args.alarmCriteria']],
      [{ name: 'p', type: 'alarm', change: 1 }, ['args']],
      [
        {
          name: 'p',
          type: 'target',
          args: { metric: 'cpu', target: 1, scaleOutCooldown: 0, scaleInCooldown: 0, x: 1 },
        },
        ['args.x'],
      ],
      [{ name: 'p', type: 'webhook', change: 1, desiredCapacity: 2 }, ['desiredCapacity']],
      [{ name: 'p', type: 'nope', change: 1 }, ['type']],
    ];
    for (const [body, expected] of cases)
      expect(fields((await check(PolicyDto, body)).errors)).toEqual(expected);
    const past = await check(PolicyDto, {
      name: 'p',
      type: 'schedule',
      change: 1,
      args: { at: '2025-01-01T00:00:00Z' },
    });
    const pastErrors: FieldError[] = [];
    expect(policyInput(past.dto!, now, '', pastErrors).args).toEqual({ at: '2025-01-01T00:00:00Z' });
    expect(fields(pastErrors)).toEqual(['args.at']);
  });

  it('describes bad webhook URLs', () => {
    expect(urlProblem('https://hooks.example.com/x')).toBeUndefined();
    expect(urlProblem('http://user:pw@example.com')).toMatch(/credentials/);
    expect(urlProblem('gopher://example.com')).toMatch(/http/);
    expect(urlProblem('/relative')).toMatch(/absolute/);
  });
});

describe('hostile policy bodies', () => {
  it.each([['__proto__'], ['constructor'], ['toString'], [{}], [null]])(
    'answer 400 for type %j',
    async (type) => {
      const r = await check(PolicyDto, { name: 'p', type, change: 1, args: { cron: '* * * * *' } });
      expect(fields(r.errors)).toContain('type');
    },
  );
});

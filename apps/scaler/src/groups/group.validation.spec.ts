import { FieldError } from '@nephele/contracts';
import {
  urlProblem,
  validateGroupConfig,
  validateLaunchConfig,
  validatePolicyInput,
} from './group.validation';

const fields = (errors: FieldError[]) => errors.map((e) => e.field);
const now = new Date('2026-01-01T00:00:00Z');

describe('group validation', () => {
  it('accepts a full group config and defaults the cooldown', () => {
    const errors: FieldError[] = [];
    const v = validateGroupConfig({ name: 'web', minEntities: 1, maxEntities: 3 }, 'config.', 1000, errors);
    expect(errors).toEqual([]);
    expect(v).toMatchObject({ name: 'web', minEntities: 1, maxEntities: 3, cooldown: 0, metadata: {} });
  });

  it.each([
    [{ name: 'x', minEntities: 0, maxEntities: 1001 }, 'config.maxEntities'],
    [{ name: 'x', minEntities: 3, maxEntities: 2 }, 'config.maxEntities'],
    [{ name: 'x', minEntities: -1, maxEntities: 2 }, 'config.minEntities'],
    [{ name: 'x', minEntities: 0, maxEntities: 2, cooldown: 1.5 }, 'config.cooldown'],
    [{ name: 'x', minEntities: 0, maxEntities: 2, metadata: { a: 1 } }, 'config.metadata.a'],
    [
      { name: 'x', minEntities: 0, maxEntities: 2, serverReadyWebhook: { url: 'ftp://x' } },
      'config.serverReadyWebhook.url',
    ],
    [
      { name: 'x', minEntities: 0, maxEntities: 2, serverReadyWebhook: { url: 'http://x', secret: 'short' } },
      'config.serverReadyWebhook.secret',
    ],
    [{ name: 'x', minEntities: 0, maxEntities: 2, what: 1 }, 'config.what'],
  ])('refuses %j naming %s', (input, field) => {
    const errors: FieldError[] = [];
    validateGroupConfig(input, 'config.', 1000, errors);
    expect(fields(errors)).toContain(field);
  });

  it('checks launch configs against the configured balancers', () => {
    const errors: FieldError[] = [];
    const v = validateLaunchConfig(
      { image: 'i', hardwareProfile: 'h', loadBalancers: [{ id: 'front', port: 80, backend: 'web' }] },
      '',
      new Set(['front']),
      errors,
    );
    expect(errors).toEqual([]);
    expect(v).toMatchObject({ type: 'launch_server', drainingTimeout: 0, buildTimeout: 3600 });
    const bad: FieldError[] = [];
    validateLaunchConfig(
      { image: 'i', hardwareProfile: 'h', loadBalancers: [{ id: 'x', port: 80, backend: 'a b' }] },
      '',
      new Set(),
      bad,
    );
    expect(fields(bad)).toEqual(['loadBalancers[0].id', 'loadBalancers[0].backend']);
  });

  it('refuses control characters in names and references, allows lines in user data', () => {
    const errors: FieldError[] = [];
    validateLaunchConfig(
      { image: 'debian\u0000', hardwareProfile: 'small\n', userData: '#!/bin/sh\n\techo hi\r\n' },
      '',
      new Set(),
      errors,
    );
    expect(errors).toEqual([
      { field: 'image', message: 'must not contain control characters' },
      { field: 'hardwareProfile', message: 'must not contain control characters' },
    ]);
    const nul: FieldError[] = [];
    validateLaunchConfig({ image: 'i', hardwareProfile: 'h', userData: 'a\u0000b' }, '', new Set(), nul);
    expect(fields(nul)).toEqual(['userData']);
  });

  it('maps policy cooldowns to seconds and refuses an `at` in the past', () => {
    const errors: FieldError[] = [];
    const p = validatePolicyInput({ name: 'p', type: 'webhook', change: 1, cooldown: 60 }, '', now, errors);
    expect(errors).toEqual([]);
    expect(p).toMatchObject({ cooldown: 60, change: 1 });
    const past: FieldError[] = [];
    validatePolicyInput(
      { name: 'p', type: 'schedule', change: 1, args: { at: '2025-01-01T00:00:00Z' } },
      '',
      now,
      past,
    );
    expect(fields(past)).toEqual(['args.at']);
  });

  it('describes bad webhook URLs', () => {
    expect(urlProblem('https://hooks.example.com/x')).toBeUndefined();
    expect(urlProblem('http://user:pw@example.com')).toMatch(/credentials/);
    expect(urlProblem('gopher://example.com')).toMatch(/http/);
    expect(urlProblem('/relative')).toMatch(/absolute/);
  });
});

import { Body, Controller, Get, Head, HttpCode, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { Principal, Public } from '@nephele/service-kit';
import { baseUrl, OpenStackAuthService, OS_TOKEN_TTL_MS, OsToken, osRoles } from './openstack-auth.service';
import { OpenStackErrorFilter, OsError } from './openstack.errors';
import { AuthRequestDto } from './dto/openstack.dto';

const UPDATED = '2024-01-01T00:00:00Z';
const DOMAIN = { id: 'default', name: 'Default' };

function v3(req: Request) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: UPDATED,
    links: [{ rel: 'self', href: `${baseUrl(req)}/identity/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

const obj = (x: unknown): Record<string, unknown> | undefined =>
  x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
const str = (x: unknown): string | undefined => (typeof x === 'string' && x.length <= 4096 ? x : undefined);

/**
 * Keystone v3 (the subset OpenStack clients need): version discovery and tokens. The credential is
 * a Nephele API token, given with the `token` method or as an application credential's secret.
 * see Note [OpenStack tokens]
 */
@ApiExcludeController()
@Public()
@UseFilters(OpenStackErrorFilter)
@Controller('openstack/identity')
export class IdentityController {
  constructor(private readonly auth: OpenStackAuthService) {}

  @Get()
  @HttpCode(300)
  versions(@Req() req: Request): unknown {
    return { versions: { values: [v3(req)] } };
  }

  @Get('v3')
  version(@Req() req: Request): unknown {
    return { version: v3(req) };
  }

  @Post('v3/auth/tokens')
  async issue(
    @Body() body: AuthRequestDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { auth } = body;
    const { identity } = auth;
    let secret: string | undefined;
    const method = identity.methods[0]!;
    if (method === 'token') secret = identity.token?.id;
    else if (method === 'application_credential') secret = identity.application_credential?.secret;
    else
      throw new OsError(
        401,
        `Authentication method ${method} is not supported here: use token or application_credential with a Nephele API token`,
      );
    if (!secret)
      throw new OsError(400, `auth.identity.${method} needs ${method === 'token' ? 'an id' : 'a secret'}`);
    const principal = await this.auth.principal(secret);

    let project: { id: string; name: string } | undefined;
    const scope = auth.scope;
    if (scope !== undefined && scope !== 'unscoped') {
      const p = obj(obj(scope)?.project);
      if (!p) throw new OsError(401, 'Only project scopes are supported (domain default).');
      const domain = obj(p.domain);
      const domainRef = str(domain?.id) ?? str(domain?.name);
      if (domainRef && domainRef !== 'default' && domainRef !== 'Default')
        throw new OsError(401, `No domain ${domainRef}: every project is in domain default.`);
      project = await this.auth.project(principal, { id: str(p.id), name: str(p.name) });
    } else if (principal.project) {
      project = await this.auth.project(principal, { id: principal.project });
    }
    const now = Date.now();
    const token: OsToken = {
      t: secret,
      p: project?.id,
      n: project?.name,
      e: now + OS_TOKEN_TTL_MS,
      i: now,
      m: method,
    };
    res.status(201).setHeader('X-Subject-Token', this.auth.encode(token));
    return { token: await this.tokenBody(req, principal, token) };
  }

  @Get('v3/auth/tokens')
  async validate(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<unknown> {
    await this.auth.authenticate(req, false);
    const subject = req.get('x-subject-token') ?? '';
    const token = this.auth.decode(subject);
    if (!token || token.e < Date.now()) throw new OsError(404, 'Could not find token.');
    const principal = await this.auth.principal(token.t).catch(() => {
      throw new OsError(404, 'Could not find token.');
    });
    res.setHeader('X-Subject-Token', subject);
    return { token: await this.tokenBody(req, principal, token) };
  }

  @Head('v3/auth/tokens')
  @HttpCode(200)
  async check(@Req() req: Request): Promise<void> {
    await this.validate(req, { setHeader: () => undefined } as unknown as Response);
  }

  private async tokenBody(req: Request, p: Principal, t: OsToken): Promise<unknown> {
    const body: Record<string, unknown> = {
      methods: [t.m],
      user: { id: p.tokenId, name: p.tokenId, domain: DOMAIN, password_expires_at: null },
      audit_ids: [randomUUID().replace(/-/g, '').slice(0, 22)],
      issued_at: new Date(t.i).toISOString(),
      expires_at: new Date(t.e).toISOString(),
      is_domain: false,
    };
    if (t.m === 'application_credential')
      body.application_credential = { id: p.tokenId, name: p.tokenId, restricted: true };
    if (t.p) {
      body.project = { id: t.p, name: t.n ?? t.p, domain: DOMAIN };
      body.roles = osRoles(p.role);
      body.catalog = await this.catalog(req, t.p);
    }
    return body;
  }

  /** One region per pool of the project; compute, image and orchestration endpoints in each. */
  private async catalog(req: Request, project: string): Promise<unknown[]> {
    const { pools } = await this.auth.pools(project);
    const base = baseUrl(req);
    const service = (type: string, name: string, path: (pool: string) => string) => ({
      id: type,
      type,
      name,
      endpoints: pools.flatMap((pool) =>
        ['public', 'internal', 'admin'].map((iface) => ({
          id: `${pool.id}-${type}-${iface}`,
          interface: iface,
          region: pool.name,
          region_id: pool.name,
          url: path(pool.id),
        })),
      ),
    });
    return [
      service('compute', 'nova', (pool) => `${base}/${pool}/compute/v2.1`),
      service('image', 'glance', (pool) => `${base}/${pool}/image`),
      service('orchestration', 'heat', (pool) => `${base}/${pool}/orchestration/v1/${project}`),
      {
        id: 'identity',
        type: 'identity',
        name: 'keystone',
        endpoints: pools.flatMap((pool) =>
          ['public', 'internal', 'admin'].map((iface) => ({
            id: `${pool.id}-identity-${iface}`,
            interface: iface,
            region: pool.name,
            region_id: pool.name,
            url: `${base}/identity/v3`,
          })),
        ),
      },
    ];
  }
}

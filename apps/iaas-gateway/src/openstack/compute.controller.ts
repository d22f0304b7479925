import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { Public } from '@nephele/service-kit';
import { baseUrl, OpenStackAuthService } from './openstack-auth.service';
import { OpenStackErrorFilter, OsError } from './openstack.errors';
import { OpenStackRepository } from './openstack.repository';
import { ServersService, ServerView } from './servers.service';
import { ComputeContext, computeVersion, microversion, withAuthorizedKey } from './compute.util';
import { ServerActionDto, ServerCreateBodyDto } from './dto/openstack.dto';
import { NovaAuthGuard, novaContextOf } from './openstack.guards';

/**
 * Nova v2.1 (a subset) for one pool (region): the version documents and servers (the pool's
 * instances); flavors and limits are ComputeFlavorsController's, keypairs ComputeKeypairsController's.
 */
@ApiExcludeController()
@Public()
@UseFilters(OpenStackErrorFilter)
@Controller('openstack/:pool/compute')
export class ComputeController {
  constructor(
    private readonly auth: OpenStackAuthService,
    private readonly servers: ServersService,
    private readonly repo: OpenStackRepository,
  ) {}

  private ctx(req: Request, res: Response, ref: string): Promise<ComputeContext> {
    return novaContextOf(this.auth, req, res, ref);
  }

  @Get()
  versions(@Param('pool') pool: string, @Req() req: Request): unknown {
    return { versions: [computeVersion(req, pool)] };
  }

  @Get('v2.1')
  versionDoc(
    @Param('pool') pool: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): unknown {
    microversion(res);
    return { version: computeVersion(req, pool) };
  }

  // --- servers --------------------------------------------------------------------------

  private server(req: Request, pool: string, s: ServerView, detail: boolean, zone = 'nova') {
    const base = `${baseUrl(req)}/${pool}/compute/v2.1`;
    const links = [
      { rel: 'self', href: `${base}/servers/${s.id}` },
      { rel: 'bookmark', href: `${base}/servers/${s.id}` },
    ];
    if (!detail) return { id: s.id, name: s.name, links };
    return {
      id: s.id,
      name: s.name,
      status: s.status,
      tenant_id: s.project,
      user_id: s.project,
      metadata: s.metadata,
      hostId: createHash('sha224').update(`${s.project}:${pool}`).digest('hex'),
      image: s.image ? { id: s.image, links: [{ rel: 'bookmark', href: `${base}/images/${s.image}` }] } : '',
      flavor: s.flavor
        ? { id: s.flavor, links: [{ rel: 'bookmark', href: `${base}/flavors/${s.flavor}` }] }
        : {},
      created: s.created,
      updated: s.updated,
      addresses: s.addresses.length
        ? {
            nephele: s.addresses.map((addr) => ({
              version: addr.includes(':') ? 6 : 4,
              addr,
              'OS-EXT-IPS:type': 'fixed',
              'OS-EXT-IPS-MAC:mac_addr': '',
            })),
          }
        : {},
      accessIPv4: s.addresses.find((a) => !a.includes(':')) ?? '',
      accessIPv6: s.addresses.find((a) => a.includes(':')) ?? '',
      links,
      key_name: s.keyName,
      progress: s.status === 'BUILD' ? 0 : 100,
      config_drive: '',
      'OS-DCF:diskConfig': 'AUTO',
      'OS-EXT-AZ:availability_zone': zone,
      'OS-EXT-STS:task_state': s.taskState,
      'OS-EXT-STS:vm_state': s.vmState,
      'OS-EXT-STS:power_state': s.powerState,
      'OS-SRV-USG:launched_at': s.status === 'BUILD' ? null : s.created,
      'OS-SRV-USG:terminated_at': null,
      'os-extended-volumes:volumes_attached': [],
      security_groups: [{ name: 'default' }],
      ...(s.fault ? { fault: { code: 500, message: s.fault, created: s.updated } } : {}),
    };
  }

  @Get(['v2.1/servers', 'v2.1/servers/detail'])
  async serverList(
    @Param('pool') ref: string,
    @Query() q: Record<string, string>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, res, ref);
    let items = await this.servers.list(pool);
    if (typeof q.name === 'string') {
      let re: RegExp;
      try {
        re = new RegExp(q.name);
      } catch {
        throw new OsError(400, 'name is not a valid regular expression');
      }
      items = items.filter((s) => re.test(s.name));
    }
    if (typeof q.status === 'string') items = items.filter((s) => s.status === q.status.toUpperCase());
    if (typeof q.image === 'string') items = items.filter((s) => s.image === q.image);
    if (typeof q.flavor === 'string') items = items.filter((s) => s.flavor === q.flavor);
    if (typeof q.ip === 'string') items = items.filter((s) => s.addresses.some((a) => a.includes(q.ip!)));
    if (typeof q.marker === 'string') {
      const i = items.findIndex((s) => s.id === q.marker);
      if (i < 0) throw new OsError(400, `marker [${q.marker}] not found`);
      items = items.slice(i + 1);
    }
    if (q.limit !== undefined) {
      const n = Number(q.limit);
      if (!Number.isInteger(n) || n < 0) throw new OsError(400, 'limit must be a non-negative integer');
      items = items.slice(0, n);
    }
    const detail = req.path.endsWith('/detail');
    return { servers: items.map((s) => this.server(req, ref, s, detail, pool.name)) };
  }

  @Get('v2.1/servers/:id')
  async serverGet(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, res, ref);
    const s = await this.servers.get(pool, id);
    if (!s) throw new OsError(404, `Instance ${id} could not be found.`);
    return { server: this.server(req, ref, s, true, pool.name) };
  }

  @Post('v2.1/servers')
  @HttpCode(202)
  @UseGuards(NovaAuthGuard)
  async serverCreate(
    @Param('pool') ref: string,
    @Body() body: ServerCreateBodyDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { c, pool, snapshot } = await this.ctx(req, res, ref);
    const s = body.server;
    const name = s.name;
    let userData =
      typeof s.user_data === 'string' ? Buffer.from(s.user_data, 'base64').toString('utf8') : undefined;
    const metadata: Record<string, string> = { ...s.metadata };
    let keyName: string | undefined;
    if (typeof s.key_name === 'string') {
      const k = await this.repo.keypair(pool.project, s.key_name);
      if (!k) throw new OsError(400, `Invalid key_name provided: no keypair ${s.key_name}`);
      keyName = k.name;
      userData = withAuthorizedKey(userData, k.public_key);
    }
    const imageRef = s.imageRef.split('/').pop()!;
    const id = await this.servers.create(c.principal, {
      pool,
      snapshot,
      name,
      image: imageRef,
      flavor: s.flavorRef,
      userData,
      metadata,
      keyName,
    });
    const href = `${baseUrl(req)}/${ref}/compute/v2.1/servers/${id}`;
    res.setHeader('Location', href);
    return {
      server: {
        id,
        links: [
          { rel: 'self', href },
          { rel: 'bookmark', href },
        ],
        'OS-DCF:diskConfig': 'AUTO',
        security_groups: [{ name: 'default' }],
        adminPass: '',
      },
    };
  }

  @Delete('v2.1/servers/:id')
  @HttpCode(204)
  async serverDelete(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const { c, pool } = await this.ctx(req, res, ref);
    if (!(await this.servers.get(pool, id))) throw new OsError(404, `Instance ${id} could not be found.`);
    await this.servers.act(c.principal, pool, id, 'destroy');
  }

  @Post('v2.1/servers/:id/action')
  @HttpCode(202)
  @UseGuards(NovaAuthGuard)
  async serverAction(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Body() body: ServerActionDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const { c, pool } = await this.ctx(req, res, ref);
    // The DTO refuses any other action; exactly one is asked for.
    const keys = (['os-start', 'os-stop', 'reboot'] as const).filter((k) => body[k] !== undefined);
    const map = { 'os-start': 'start', 'os-stop': 'stop', reboot: 'reboot' } as const;
    if (keys.length !== 1)
      throw new OsError(
        400,
        `Give exactly one server action (${keys.join(', ') || 'none given'}): os-start, os-stop and reboot are served`,
      );
    const s = await this.servers.get(pool, id);
    if (!s) throw new OsError(404, `Instance ${id} could not be found.`);
    const action = map[keys[0]!]!;
    if (action === 'start' && s.status !== 'SHUTOFF')
      throw new OsError(
        409,
        `Cannot 'start' instance ${id} while it is in vm_state ${s.vmState}`,
        'conflictingRequest',
      );
    if (action === 'stop' && s.status !== 'ACTIVE' && s.status !== 'ERROR')
      throw new OsError(
        409,
        `Cannot 'stop' instance ${id} while it is in vm_state ${s.vmState}`,
        'conflictingRequest',
      );
    await this.servers.act(c.principal, pool, id, action);
  }

  @Get('v2.1/servers/:id/ips')
  async ips(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const r = (await this.serverGet(ref, id, req, res)) as { server: { addresses: unknown } };
    return { addresses: r.server.addresses };
  }

  @Get('v2.1/servers/:id/metadata')
  async metadata(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const r = (await this.serverGet(ref, id, req, res)) as { server: { metadata: unknown } };
    return { metadata: r.server.metadata };
  }

  @Get('v2.1/servers/:id/os-security-groups')
  async securityGroups(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    await this.serverGet(ref, id, req, res);
    return { security_groups: [] };
  }
}

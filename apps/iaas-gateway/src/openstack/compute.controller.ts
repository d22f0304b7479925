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
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { HardwareProfileConfig, PoolConfig } from '@nephele/broker';
import { Public } from '@nephele/service-kit';
import { LaunchesRepository } from '../launches/launches.repository';
import { baseUrl, OpenStackAuthService, OsContext } from './openstack-auth.service';
import { OpenStackErrorFilter, OsError } from './openstack.errors';
import { OpenStackRepository } from './openstack.repository';
import { fixed, ServersService, ServerView } from './servers.service';

/** The highest compute microversion served: 2.1's representations, which every client speaks. */
const MAX_MICROVERSION = '2.1';
const obj = (x: unknown): Record<string, unknown> | undefined =>
  x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Answers the microversion headers Nova answers (the version asked is served as 2.1). */
function microversion(res: Response): void {
  res.setHeader('OpenStack-API-Version', `compute ${MAX_MICROVERSION}`);
  res.setHeader('X-OpenStack-Nova-API-Version', MAX_MICROVERSION);
  res.setHeader('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
}

/**
 * Nova v2.1 (a subset) for one pool (region): flavors = the project's hardware profiles, servers =
 * the pool's instances, keypairs, limits from the pool's quota.
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
    private readonly launches: LaunchesRepository,
  ) {}

  private version(req: Request, pool: string) {
    return {
      id: 'v2.1',
      status: 'CURRENT',
      version: MAX_MICROVERSION,
      min_version: '2.1',
      updated: '2013-07-23T11:33:21Z',
      links: [{ rel: 'self', href: `${baseUrl(req)}/${pool}/compute/v2.1/` }],
      'media-types': [
        { base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' },
      ],
    };
  }

  private async ctx(
    req: Request,
    res: Response,
    ref: string,
  ): Promise<{ c: OsContext; pool: PoolConfig } & Awaited<ReturnType<OpenStackAuthService['pool']>>> {
    microversion(res);
    const c = await this.auth.authenticate(req);
    const r = await this.auth.pool(c, ref);
    return { c, ...r };
  }

  @Get()
  versions(@Param('pool') pool: string, @Req() req: Request): unknown {
    return { versions: [this.version(req, pool)] };
  }

  @Get('v2.1')
  versionDoc(
    @Param('pool') pool: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): unknown {
    microversion(res);
    return { version: this.version(req, pool) };
  }

  // --- flavors --------------------------------------------------------------------------

  private flavor(req: Request, pool: string, h: HardwareProfileConfig, detail: boolean) {
    const href = `${baseUrl(req)}/${pool}/compute/v2.1/flavors/${h.id}`;
    const links = [
      { rel: 'self', href },
      { rel: 'bookmark', href },
    ];
    if (!detail) return { id: h.id, name: h.name, links };
    return {
      id: h.id,
      name: h.name,
      ram: fixed(h.memoryMb),
      vcpus: fixed(h.cpu),
      disk: fixed(h.storageGb),
      'OS-FLV-EXT-DATA:ephemeral': 0,
      'OS-FLV-DISABLED:disabled': false,
      'os-flavor-access:is_public': true,
      swap: '',
      rxtx_factor: 1.0,
      links,
    };
  }

  @Get(['v2.1/flavors', 'v2.1/flavors/detail'])
  async flavors(
    @Param('pool') ref: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool, snapshot } = await this.ctx(req, res, ref);
    const detail = req.path.endsWith('/detail');
    return {
      flavors: snapshot.hardwareProfiles
        .filter((h) => h.project === pool.project)
        .map((h) => this.flavor(req, ref, h, detail)),
    };
  }

  @Get('v2.1/flavors/:id')
  async flavorGet(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool, snapshot } = await this.ctx(req, res, ref);
    const h = snapshot.hardwareProfiles.find((x) => x.project === pool.project && x.id === id);
    if (!h) throw new OsError(404, `Flavor ${id} could not be found.`);
    return { flavor: this.flavor(req, ref, h, true) };
  }

  @Get('v2.1/flavors/:id/os-extra_specs')
  async extraSpecs(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    await this.flavorGet(ref, id, req, res);
    return { extra_specs: {} };
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
  async serverCreate(
    @Param('pool') ref: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { c, pool, snapshot } = await this.ctx(req, res, ref);
    const s = obj(obj(body)?.server);
    if (!s) throw new OsError(400, 'Missing server in the request body');
    const name = s.name;
    if (typeof name !== 'string' || !NAME.test(name))
      throw new OsError(
        400,
        "Invalid input for field/attribute name: letters, digits, '.', '_', '-' (at most 63)",
      );
    if (typeof s.imageRef !== 'string' || !s.imageRef)
      throw new OsError(400, 'Invalid input for field/attribute imageRef: required');
    if (typeof s.flavorRef !== 'string' || !s.flavorRef)
      throw new OsError(400, 'Invalid input for field/attribute flavorRef: required');
    let userData: string | undefined;
    if (s.user_data !== undefined && s.user_data !== null) {
      if (
        typeof s.user_data !== 'string' ||
        !/^[A-Za-z0-9+/=\s]*$/.test(s.user_data) ||
        s.user_data.length > 87_380
      )
        throw new OsError(400, 'Invalid input for field/attribute user_data: base64 of at most 64 KiB');
      userData = Buffer.from(s.user_data, 'base64').toString('utf8');
    }
    const metadata: Record<string, string> = {};
    if (s.metadata !== undefined) {
      const m = obj(s.metadata);
      if (!m) throw new OsError(400, 'Invalid input for field/attribute metadata: an object');
      for (const [k, v] of Object.entries(m)) {
        if (typeof v !== 'string' || k.length > 255 || v.length > 255)
          throw new OsError(
            400,
            `Invalid input for field/attribute metadata.${k}: a string of at most 255 characters`,
          );
        metadata[k] = v;
      }
    }
    let keyName: string | undefined;
    if (s.key_name !== undefined && s.key_name !== null) {
      if (typeof s.key_name !== 'string')
        throw new OsError(400, 'Invalid input for field/attribute key_name');
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
  async serverAction(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const { c, pool } = await this.ctx(req, res, ref);
    const b = obj(body) ?? {};
    const keys = Object.keys(b);
    const map: Record<string, 'start' | 'stop' | 'reboot'> = {
      'os-start': 'start',
      'os-stop': 'stop',
      reboot: 'reboot',
    };
    if (keys.length !== 1 || !(keys[0]! in map))
      throw new OsError(
        400,
        `Unsupported server action ${keys.join(', ') || '(none)'}: os-start, os-stop and reboot are served`,
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

  // --- keypairs -------------------------------------------------------------------------

  private keypair(k: { name: string; public_key: string; fingerprint: string; type: string }) {
    return { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint, type: k.type };
  }

  @Get('v2.1/os-keypairs')
  async keypairs(
    @Param('pool') ref: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, res, ref);
    return { keypairs: (await this.repo.keypairs(pool.project)).map((k) => ({ keypair: this.keypair(k) })) };
  }

  @Get('v2.1/os-keypairs/:name')
  async keypairGet(
    @Param('pool') ref: string,
    @Param('name') name: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, res, ref);
    const k = await this.repo.keypair(pool.project, name);
    if (!k) throw new OsError(404, `Keypair ${name} not found for this project.`);
    return {
      keypair: {
        ...this.keypair(k),
        created_at: new Date(k.created_at).toISOString(),
        deleted: false,
        id: 0,
        user_id: pool.project,
      },
    };
  }

  @Post('v2.1/os-keypairs')
  async keypairCreate(
    @Param('pool') ref: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, res, ref);
    const k = obj(obj(body)?.keypair);
    if (!k || typeof k.name !== 'string' || !/^[A-Za-z0-9 _.@-]{1,255}$/.test(k.name))
      throw new OsError(400, 'Invalid input for field/attribute keypair.name');
    if (typeof k.public_key !== 'string')
      throw new OsError(
        400,
        'Invalid input for field/attribute keypair.public_key: generating keys is not served; import a public key',
      );
    const parts = k.public_key.trim().split(/\s+/);
    let blob: Buffer | undefined;
    if (parts.length >= 2 && /^(ssh-|ecdsa-)/.test(parts[0]!) && parts[0]!.length < 64)
      blob = Buffer.from(parts[1]!, 'base64');
    if (!blob || blob.length < 16 || k.public_key.length > 16_384 || /[\r\n]/.test(k.public_key.trim()))
      throw new OsError(400, 'Keypair data is invalid: not an OpenSSH public key');
    const fingerprint = createHash('md5')
      .update(blob)
      .digest('hex')
      .replace(/(..)(?!$)/g, '$1:');
    const row = {
      project: pool.project,
      name: k.name,
      public_key: k.public_key.trim(),
      fingerprint,
      type: 'ssh',
    };
    if (!(await this.repo.addKeypair(row)))
      throw new OsError(409, `Key pair '${k.name}' already exists.`, 'conflictingRequest');
    res.status(200);
    return { keypair: { ...this.keypair(row), user_id: pool.project } };
  }

  @Delete('v2.1/os-keypairs/:name')
  @HttpCode(202)
  async keypairDelete(
    @Param('pool') ref: string,
    @Param('name') name: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const { pool } = await this.ctx(req, res, ref);
    if (!(await this.repo.deleteKeypair(pool.project, name)))
      throw new OsError(404, `Keypair ${name} not found for this project.`);
  }

  // --- limits ---------------------------------------------------------------------------

  @Get('v2.1/limits')
  async limits(
    @Param('pool') ref: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, res, ref);
    const used = await this.launches.usage(pool.id, pool.familyId);
    const q = pool.quota ?? {};
    return {
      limits: {
        rate: [],
        absolute: {
          maxTotalInstances: q.maxInstances ?? -1,
          maxTotalCores: q.maxCores ?? -1,
          maxTotalRAMSize: q.maxMemoryMb ?? -1,
          maxTotalKeypairs: 100,
          maxServerMeta: 128,
          maxPersonality: 0,
          maxPersonalitySize: 0,
          maxImageMeta: 128,
          maxServerGroups: 0,
          maxServerGroupMembers: 0,
          maxSecurityGroups: -1,
          maxSecurityGroupRules: -1,
          maxTotalFloatingIps: 0,
          totalInstancesUsed: used.pool.instances,
          totalCoresUsed: used.pool.cores,
          totalRAMUsed: used.pool.memoryMb,
          totalSecurityGroupsUsed: 0,
          totalFloatingIpsUsed: 0,
          totalServerGroupsUsed: 0,
        },
      },
    };
  }
}

/**
 * A keypair's public key handed to the machine in its user data: appended to a `#cloud-config`
 * document's ssh_authorized_keys, or a new one when there is no user data. A `#!` script gets the
 * key as a comment line the local driver reads (`# ssh-authorized-key: …`), as the script runs unchanged.
 */
export function withAuthorizedKey(userData: string | undefined, key: string): string {
  if (!userData) return `#cloud-config\nssh_authorized_keys:\n  - ${key}\n`;
  if (userData.startsWith('#cloud-config')) {
    if (/^ssh_authorized_keys:\s*$/m.test(userData))
      return userData.replace(/^ssh_authorized_keys:\s*$/m, (m) => `${m}\n  - ${key}`);
    return `${userData.replace(/\n?$/, '\n')}ssh_authorized_keys:\n  - ${key}\n`;
  }
  if (userData.startsWith('#!')) {
    const nl = userData.indexOf('\n');
    return nl < 0
      ? `${userData}\n# ssh-authorized-key: ${key}\n`
      : `${userData.slice(0, nl + 1)}# ssh-authorized-key: ${key}\n${userData.slice(nl + 1)}`;
  }
  return userData;
}

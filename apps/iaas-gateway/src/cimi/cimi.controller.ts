import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { Bus } from '@nephele/bus';
import { BrokerConfigSnapshot, PoolConfig } from '@nephele/broker';
import { createEvent, InstanceQuery } from '@nephele/contracts';
import { ApiProblems, BUS, CurrentPrincipal, Principal, ProblemException } from '@nephele/service-kit';
import { BrokerConfigService } from '../config-cache/broker-config.service';
import { SERVICE } from '../gateway.tokens';
import { LaunchesService } from '../launches/launches.service';
import {
  CLOUDS_SCHEMA,
  ENTRY_POINT_SCHEMA,
  MACHINE_CONFIG_SCHEMA,
  MACHINE_CONFIGS_SCHEMA,
  MACHINE_IMAGE_SCHEMA,
  MACHINE_IMAGES_SCHEMA,
  MACHINE_SCHEMA,
  MACHINE_TEMPLATE_SCHEMA,
  MACHINE_TEMPLATES_SCHEMA,
  MACHINES_SCHEMA,
} from './cimi.schemas';
import {
  cimiCollection,
  InstanceView,
  machine,
  machineConfig,
  machineImage,
  templates,
} from './cimi.representation';
import { CIMI } from './cimi.types';
import { ActionDto, MachineCreateDto } from './dto/cimi.dto';
import { resolveMachineCreate } from './machine-create.util';

const OPS = { start: 'start', stop: 'stop', restart: 'reboot' } as const;

/**
 * Each pool served as a DMTF CIMI cloud (JSON): `/cimi/{pool}` is its CloudEntryPoint. Machines are
 * the pool's instances (from the state tracker), machine configurations its project's hardware
 * profiles, machine images its images, and machine templates every image × configuration pair.
 * Errors are RFC 9457 problem details like the rest of the API, with CIMI's HTTP status codes.
 */
/** The item `id` of the pool's project (another project's is not found: 404, not 403). */
function ofProject<T extends { id: string; project: string }>(
  items: T[],
  pool: PoolConfig,
  id: string,
  what: string,
): T {
  const found = items.find((x) => x.id === id && x.project === pool.project);
  if (!found) throw ProblemException.notFound(`${what} ${id}`);
  return found;
}

@ApiTags('cimi')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('cimi')
export class CimiController {
  constructor(
    private readonly brokerConfig: BrokerConfigService,
    private readonly launches: LaunchesService,
    @Inject(BUS) private readonly bus: Bus,
  ) {}

  private base(req: Request, pool: PoolConfig): string {
    return `${req.protocol}://${req.get('host')}/cimi/${pool.id}`;
  }

  private async pool(
    ref: string,
    p: Principal,
  ): Promise<{ pool: PoolConfig; snapshot: BrokerConfigSnapshot }> {
    const snapshot = await this.brokerConfig.get().catch((e: Error) => {
      throw new ProblemException(503, e.message);
    });
    const pool = snapshot.pools.find(
      (x) => (x.id === ref || x.name === ref) && (p.role === 'admin' || x.project === p.project),
    );
    if (!pool) throw ProblemException.notFound(`cloud ${ref}`);
    return { pool, snapshot };
  }

  private async instances(q: { pool?: string; id?: string }): Promise<InstanceView[]> {
    const r = await this.bus
      .request<{ items: InstanceView[] }>(createEvent(SERVICE, InstanceQuery.type, q), { timeoutMs: 10_000 })
      .catch((e: Error) => {
        throw new ProblemException(503, `the state tracker is not reachable: ${e.message}`);
      });
    return r.items;
  }

  @Get()
  @ApiOperation({ summary: 'The clouds (pools) this token can use' })
  @ApiOkResponse({ schema: CLOUDS_SCHEMA })
  @ApiProblems(403)
  async clouds(@Req() req: Request, @CurrentPrincipal() p: Principal): Promise<unknown> {
    const snapshot = await this.brokerConfig.get();
    const pools = snapshot.pools.filter((x) => p.role === 'admin' || x.project === p.project);
    return {
      count: pools.length,
      clouds: pools.map((x) => ({
        name: x.name,
        id: x.id,
        href: `${req.protocol}://${req.get('host')}/cimi/${x.id}`,
      })),
    };
  }

  @Get(':pool')
  @ApiOperation({ summary: 'CloudEntryPoint of a pool' })
  @ApiOkResponse({ schema: ENTRY_POINT_SCHEMA })
  @ApiProblems(404)
  async entryPoint(
    @Param('pool') ref: string,
    @Req() req: Request,
    @CurrentPrincipal() p: Principal,
  ): Promise<unknown> {
    const { pool } = await this.pool(ref, p);
    const base = this.base(req, pool);
    return {
      resourceURI: `${CIMI}/CloudEntryPoint`,
      id: base,
      name: pool.name,
      description: pool.description ?? undefined,
      created: pool.createdAt,
      updated: pool.updatedAt,
      baseURI: `${base}/`,
      machines: { href: `${base}/machines` },
      machineConfigs: { href: `${base}/machineConfigs` },
      machineImages: { href: `${base}/machineImages` },
      machineTemplates: { href: `${base}/machineTemplates` },
    };
  }

  @Get(':pool/machineConfigs')
  @ApiOperation({ summary: 'The pool project’s hardware profiles as CIMI machine configurations' })
  @ApiOkResponse({ schema: MACHINE_CONFIGS_SCHEMA })
  @ApiProblems(404)
  async configs(
    @Param('pool') ref: string,
    @Req() req: Request,
    @CurrentPrincipal() p: Principal,
  ): Promise<unknown> {
    const { pool, snapshot } = await this.pool(ref, p);
    const items = snapshot.hardwareProfiles
      .filter((h) => h.project === pool.project)
      .map((h) => machineConfig(this.base(req, pool), h));
    return cimiCollection(
      'MachineConfigurationCollection',
      `${this.base(req, pool)}/machineConfigs`,
      'machineConfigurations',
      items,
    );
  }

  @Get(':pool/machineConfigs/:id')
  @ApiOperation({ summary: 'One machine configuration' })
  @ApiOkResponse({ schema: MACHINE_CONFIG_SCHEMA })
  @ApiProblems(404)
  async config(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @CurrentPrincipal() p: Principal,
  ): Promise<unknown> {
    const { pool, snapshot } = await this.pool(ref, p);
    const h = ofProject(snapshot.hardwareProfiles, pool, id, 'machine configuration');
    return machineConfig(this.base(req, pool), h);
  }

  @Get(':pool/machineImages')
  @ApiOperation({ summary: 'The pool project’s images as CIMI machine images' })
  @ApiOkResponse({ schema: MACHINE_IMAGES_SCHEMA })
  @ApiProblems(404)
  async images(
    @Param('pool') ref: string,
    @Req() req: Request,
    @CurrentPrincipal() p: Principal,
  ): Promise<unknown> {
    const { pool, snapshot } = await this.pool(ref, p);
    const items = snapshot.images
      .filter((i) => i.project === pool.project)
      .map((i) => machineImage(this.base(req, pool), i));
    return cimiCollection(
      'MachineImageCollection',
      `${this.base(req, pool)}/machineImages`,
      'machineImages',
      items,
    );
  }

  @Get(':pool/machineImages/:id')
  @ApiOperation({ summary: 'One machine image' })
  @ApiOkResponse({ schema: MACHINE_IMAGE_SCHEMA })
  @ApiProblems(404)
  async image(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @CurrentPrincipal() p: Principal,
  ): Promise<unknown> {
    const { pool, snapshot } = await this.pool(ref, p);
    const i = ofProject(snapshot.images, pool, id, 'machine image');
    return machineImage(this.base(req, pool), i);
  }

  @Get(':pool/machineTemplates')
  @ApiOperation({ summary: 'Every image × machine configuration of the pool’s project' })
  @ApiOkResponse({ schema: MACHINE_TEMPLATES_SCHEMA })
  @ApiProblems(404)
  async machineTemplates(
    @Param('pool') ref: string,
    @Req() req: Request,
    @CurrentPrincipal() p: Principal,
  ): Promise<unknown> {
    const { pool, snapshot } = await this.pool(ref, p);
    const items = templates(this.base(req, pool), pool, snapshot);
    return cimiCollection(
      'MachineTemplateCollection',
      `${this.base(req, pool)}/machineTemplates`,
      'machineTemplates',
      items,
    );
  }

  @Get(':pool/machineTemplates/:id')
  @ApiOperation({ summary: 'One machine template (`<image>.<config>`)' })
  @ApiOkResponse({ schema: MACHINE_TEMPLATE_SCHEMA })
  @ApiProblems(404)
  async machineTemplate(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @CurrentPrincipal() p: Principal,
  ): Promise<unknown> {
    const { pool, snapshot } = await this.pool(ref, p);
    const t = templates(this.base(req, pool), pool, snapshot).find((x) => x.id.endsWith(`/${id}`));
    if (!t) throw ProblemException.notFound(`machine template ${id}`);
    return t;
  }

  @Get(':pool/machines')
  @ApiOperation({ summary: 'The pool’s machines' })
  @ApiOkResponse({ schema: MACHINES_SCHEMA })
  @ApiProblems(404)
  async machines(
    @Param('pool') ref: string,
    @Req() req: Request,
    @CurrentPrincipal() p: Principal,
  ): Promise<unknown> {
    const { pool } = await this.pool(ref, p);
    const items = (await this.instances({ pool: pool.id })).map((m) => machine(this.base(req, pool), m));
    return cimiCollection('MachineCollection', `${this.base(req, pool)}/machines`, 'machines', items, {
      operations: [{ rel: 'add', href: `${this.base(req, pool)}/machines` }],
    });
  }

  private async findMachine(pool: PoolConfig, id: string): Promise<InstanceView> {
    const [m] = /^[0-9a-f-]{36}$/i.test(id) ? await this.instances({ id }) : [];
    if (!m || m.pool !== pool.id) throw ProblemException.notFound(`machine ${id}`);
    return m;
  }

  @Get(':pool/machines/:id')
  @ApiOperation({ summary: 'One machine with its state and addresses' })
  @ApiOkResponse({ schema: MACHINE_SCHEMA })
  @ApiProblems(404)
  async machineGet(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @CurrentPrincipal() p: Principal,
  ): Promise<unknown> {
    const { pool } = await this.pool(ref, p);
    return machine(this.base(req, pool), await this.findMachine(pool, id));
  }

  @Post(':pool/machines')
  @ApiOperation({
    summary: 'Create a machine from a template, or from a machineConfig + machineImage (CIMI MachineCreate)',
  })
  @ApiCreatedResponse({ schema: MACHINE_SCHEMA, description: 'launching: state CREATING' })
  @ApiProblems(400, 403, 404, 409)
  async create(
    @Param('pool') ref: string,
    @Body() body: MachineCreateDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @CurrentPrincipal() p: Principal,
  ): Promise<unknown> {
    const { pool, snapshot } = await this.pool(ref, p);
    const base = this.base(req, pool);
    const { imageId, configId } = resolveMachineCreate(body, templates(base, pool, snapshot), pool, snapshot);
    const key = idempotencyKey ? `cimi:${pool.project}:${idempotencyKey}` : `cimi:${randomUUID()}`;
    const r = await this.launches.create({
      owner: `cimi:${pool.project}`,
      idempotencyKey: key,
      pool: pool.id,
      project: pool.project,
      image: imageId,
      hardwareProfile: configId,
      name: body.name,
      userData: body.machineTemplate.userData,
      metadata: body.properties,
    });
    if (!r.ok) throw new ProblemException(409, `the machine could not be created: ${r.reason}`);
    await this.launches.audit(p, {
      resource: 'machines',
      action: 'create',
      id: r.instanceId,
      project: pool.project,
      after: {
        pool: pool.id,
        image: imageId,
        machineConfig: configId,
        providerAccountId: r.providerAccountId,
      },
    });
    res.status(201);
    res.setHeader('Location', `${base}/machines/${r.instanceId}`);
    return {
      resourceURI: `${CIMI}/Machine`,
      id: `${base}/machines/${r.instanceId}`,
      name: body.name ?? r.instanceId,
      state: 'CREATING',
      machineImage: { href: `${base}/machineImages/${imageId}` },
      machineConfig: { href: `${base}/machineConfigs/${configId}` },
      properties: { providerAccountId: r.providerAccountId },
    };
  }

  @Delete(':pool/machines/:id')
  @HttpCode(202)
  @ApiOperation({ summary: 'Destroy a machine' })
  @ApiAcceptedResponse({ description: 'destroying; no body' })
  @ApiProblems(403, 404, 409)
  async remove(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<void> {
    const { pool } = await this.pool(ref, p);
    await this.findMachine(pool, id);
    const r = await this.launches.act('destroy', {
      instanceId: id,
      owner: `cimi:${pool.project}`,
      reason: `deleted through CIMI by ${p.tokenId}`,
    });
    if (!r.ok) throw new ProblemException(409, r.reason);
    await this.launches.audit(p, { resource: 'machines', action: 'delete', id, project: pool.project });
  }

  @Post(':pool/machines/:id/:op')
  @HttpCode(202)
  @ApiOperation({ summary: 'start, stop or restart a machine (CIMI action)' })
  @ApiAcceptedResponse({ description: 'the action is under way; no body' })
  @ApiProblems(400, 403, 404, 409)
  async action(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Param('op') op: string,
    @Body() body: ActionDto,
    @CurrentPrincipal() p: Principal,
  ): Promise<void> {
    if (!(op in OPS)) throw ProblemException.notFound(`operation ${op}`);
    if (!body.action.endsWith(`/action/${op}`)) {
      throw ProblemException.badRequest('action does not match the operation', [
        { field: 'action', message: `POST ${op} takes the ${op} action` },
      ]);
    }
    const { pool } = await this.pool(ref, p);
    await this.findMachine(pool, id);
    const r = await this.launches.act(OPS[op as keyof typeof OPS], {
      instanceId: id,
      owner: `cimi:${pool.project}`,
      reason: `${op} through CIMI`,
    });
    if (!r.ok) throw new ProblemException(409, r.reason);
    await this.launches.audit(p, { resource: 'machines', action: op, id, project: pool.project });
  }
}

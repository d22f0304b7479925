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
import { PoolConfig } from '@nephele/broker';
import { HotTemplate } from '@nephele/hot';
import { Public } from '@nephele/service-kit';
import { baseUrl, OpenStackAuthService } from './openstack-auth.service';
import { StackCreateDto, StackValidateDto } from './dto/openstack.dto';
import { HeatAuthGuard, HeatContext, heatContextOf } from './openstack.guards';
import { OpenStackErrorFilter, OsError } from './openstack.errors';
import { OpenStackRepository, StackRow } from './openstack.repository';
import { StacksService } from './stacks.service';


/**
 * Heat v1 (a subset) for one pool (region): stacks from HOT templates, their outputs, resources
 * and events. see Note [Stacks]
 */
@ApiExcludeController()
@Public()
@UseFilters(OpenStackErrorFilter)
@Controller('openstack/:pool/orchestration/v1/:tenant')
export class OrchestrationController {
  constructor(
    private readonly auth: OpenStackAuthService,
    private readonly repo: OpenStackRepository,
    private readonly stacks: StacksService,
  ) {}

  private ctx(req: Request, ref: string, tenant: string): Promise<HeatContext> {
    return heatContextOf(this.auth, req, ref, tenant);
  }

  private async find(pool: PoolConfig, name: string, id?: string): Promise<StackRow> {
    const s = await this.repo.stack(pool.project, id ?? name);
    if (!s || s.pool_id !== pool.id || (id && s.name !== name && s.id !== name))
      throw new OsError(404, `The Stack (${name}) could not be found.`, 'EntityNotFound');
    return s;
  }

  private links(req: Request, ref: string, tenant: string, s: StackRow) {
    return [
      { href: `${baseUrl(req)}/${ref}/orchestration/v1/${tenant}/stacks/${s.name}/${s.id}`, rel: 'self' },
    ];
  }

  private summary(req: Request, ref: string, tenant: string, s: StackRow) {
    return {
      id: s.id,
      stack_name: s.name,
      description: (s.template as unknown as HotTemplate).description ?? 'No description',
      stack_status: s.status,
      stack_status_reason: s.status_reason,
      creation_time: new Date(s.created_at).toISOString().replace(/\.\d+Z$/, 'Z'),
      updated_time: new Date(s.updated_at).toISOString().replace(/\.\d+Z$/, 'Z'),
      deletion_time: s.deleted_at ? new Date(s.deleted_at).toISOString().replace(/\.\d+Z$/, 'Z') : null,
      stack_owner: null,
      stack_user_project_id: s.project,
      project: s.project,
      parent: null,
      tags: null,
      links: this.links(req, ref, tenant, s),
    };
  }

  private detail(req: Request, ref: string, tenant: string, s: StackRow) {
    const t = s.template as unknown as HotTemplate;
    const params: Record<string, string> = {
      'OS::stack_name': s.name,
      'OS::stack_id': s.id,
      'OS::project_id': s.project,
    };
    for (const [k, v] of Object.entries(s.parameters))
      params[k] = t.parameters?.[k]?.hidden ? '******' : typeof v === 'string' ? v : JSON.stringify(v);
    return {
      ...this.summary(req, ref, tenant, s),
      parameters: params,
      outputs: s.outputs,
      template_description: t.description ?? 'No description',
      capabilities: [],
      notification_topics: [],
      disable_rollback: true,
      timeout_mins: null,
    };
  }

  @Get('stacks')
  async list(
    @Param('pool') ref: string,
    @Param('tenant') tenant: string,
    @Query() q: Record<string, unknown>,
    @Req() req: Request,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, ref, tenant);
    let items = await this.repo.stacks(pool.project, pool.id);
    if (typeof q.name === 'string') items = items.filter((s) => s.name === q.name);
    if (typeof q.status === 'string') items = items.filter((s) => s.status.endsWith(String(q.status)));
    return { stacks: items.map((s) => this.summary(req, ref, tenant, s)) };
  }

  @Post('stacks')
  @UseGuards(HeatAuthGuard)
  async create(
    @Param('pool') ref: string,
    @Param('tenant') tenant: string,
    @Body() body: StackCreateDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { c, pool } = await this.ctx(req, ref, tenant);
    const s = await this.stacks.create(c.principal, pool, body);
    const links = this.links(req, ref, tenant, s);
    res.status(201).setHeader('Location', links[0]!.href);
    return { stack: { id: s.id, links } };
  }

  @Post('validate')
  @HttpCode(200)
  @UseGuards(HeatAuthGuard)
  async validate(
    @Param('pool') ref: string,
    @Param('tenant') tenant: string,
    @Body() body: StackValidateDto,
    @Req() req: Request,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, ref, tenant);
    const { template } = await this.stacks.validate(pool, body);
    return {
      Description: template.description ?? 'No description',
      Parameters: Object.fromEntries(
        Object.entries(template.parameters).map(([k, p]) => [
          k,
          {
            Type:
              p.type === 'number'
                ? 'Number'
                : p.type === 'comma_delimited_list'
                  ? 'CommaDelimitedList'
                  : p.type === 'json'
                    ? 'Json'
                    : p.type === 'boolean'
                      ? 'Boolean'
                      : 'String',
            Description: p.description ?? '',
            Default: p.default,
            Label: p.label ?? k,
            NoEcho: p.hidden ? 'true' : 'false',
          },
        ]),
      ),
    };
  }

  @Get(['stacks/:name/outputs', 'stacks/:name/:id/outputs'])
  async outputs(
    @Param('pool') ref: string,
    @Param('tenant') tenant: string,
    @Param('name') name: string,
    @Param('id') id: string | undefined,
    @Req() req: Request,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, ref, tenant);
    const s = await this.find(pool, name, id);
    return { outputs: s.outputs.map((o) => ({ output_key: o.output_key, description: o.description })) };
  }

  @Get(['stacks/:name/outputs/:key', 'stacks/:name/:id/outputs/:key'])
  async output(
    @Param('pool') ref: string,
    @Param('tenant') tenant: string,
    @Param('name') name: string,
    @Param('id') id: string | undefined,
    @Param('key') key: string,
    @Req() req: Request,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, ref, tenant);
    const s = await this.find(pool, name, id);
    const o = s.outputs.find((x) => x.output_key === key);
    if (!o) {
      const declared = Object.keys((s.template as unknown as HotTemplate).outputs ?? {}).includes(key);
      if (!declared) throw new OsError(404, `Specified output key ${key} not found.`, 'NotFound');
      return { output: { output_key: key, output_value: null, output_error: `the stack is ${s.status}` } };
    }
    return { output: o };
  }

  @Get(['stacks/:name/events', 'stacks/:name/:id/events'])
  async events(
    @Param('pool') ref: string,
    @Param('tenant') tenant: string,
    @Param('name') name: string,
    @Param('id') id: string | undefined,
    @Query() q: Record<string, unknown>,
    @Req() req: Request,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, ref, tenant);
    const s = await this.find(pool, name, id);
    let events = [...s.events];
    if (q.sort_dir === 'desc') events.reverse();
    if (typeof q.marker === 'string') {
      const i = events.findIndex((e) => e.id === q.marker);
      events = i < 0 ? events : events.slice(i + 1);
    }
    if (typeof q.resource_status === 'string')
      events = events.filter((e) => e.resource_status.endsWith(String(q.resource_status)));
    if (typeof q.resource_name === 'string')
      events = events.filter((e) => e.resource_name === q.resource_name);
    if (q.limit !== undefined) {
      const n = Number(q.limit);
      if (!Number.isInteger(n) || n < 0) throw new OsError(400, 'limit must be a non-negative integer');
      events = events.slice(0, n);
    }
    const base = `${baseUrl(req)}/${ref}/orchestration/v1/${tenant}/stacks/${s.name}/${s.id}`;
    return {
      events: events.map((e) => ({
        ...e,
        links: [
          { href: `${base}/resources/${e.resource_name}/events/${e.id}`, rel: 'self' },
          { href: base, rel: 'stack' },
        ],
      })),
    };
  }

  @Get(['stacks/:name/resources', 'stacks/:name/:id/resources'])
  async resources(
    @Param('pool') ref: string,
    @Param('tenant') tenant: string,
    @Param('name') name: string,
    @Param('id') id: string | undefined,
    @Req() req: Request,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, ref, tenant);
    const s = await this.find(pool, name, id);
    const base = `${baseUrl(req)}/${ref}/orchestration/v1/${tenant}/stacks/${s.name}/${s.id}`;
    return {
      resources: Object.entries(s.resources).map(([n, r]) => ({
        resource_name: n,
        logical_resource_id: n,
        physical_resource_id: r.instances?.[0] ?? '',
        resource_type: r.type,
        resource_status: r.status,
        resource_status_reason: r.reason ?? 'state changed',
        updated_time: new Date(s.updated_at).toISOString().replace(/\.\d+Z$/, 'Z'),
        creation_time: new Date(s.created_at).toISOString().replace(/\.\d+Z$/, 'Z'),
        required_by: [],
        links: [
          { href: `${base}/resources/${n}`, rel: 'self' },
          { href: base, rel: 'stack' },
        ],
      })),
    };
  }

  @Get('stacks/:name/template')
  async template(
    @Param('pool') ref: string,
    @Param('tenant') tenant: string,
    @Param('name') name: string,
    @Req() req: Request,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, ref, tenant);
    return (await this.find(pool, name)).template;
  }

  /** Heat answers a stack named without its id with a redirect (the clients find the id in Location). */
  @Get('stacks/:name')
  async lookup(
    @Param('pool') ref: string,
    @Param('tenant') tenant: string,
    @Param('name') name: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const { pool } = await this.ctx(req, ref, tenant);
    const s = await this.find(pool, name);
    const qs = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    res.redirect(302, `${this.links(req, ref, tenant, s)[0]!.href}${qs}`);
  }

  @Get('stacks/:name/:id')
  async show(
    @Param('pool') ref: string,
    @Param('tenant') tenant: string,
    @Param('name') name: string,
    @Param('id') id: string | undefined,
    @Req() req: Request,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, ref, tenant);
    return { stack: this.detail(req, ref, tenant, await this.find(pool, name, id)) };
  }

  @Delete(['stacks/:name', 'stacks/:name/:id'])
  @HttpCode(204)
  async remove(
    @Param('pool') ref: string,
    @Param('tenant') tenant: string,
    @Param('name') name: string,
    @Param('id') id: string | undefined,
    @Req() req: Request,
  ): Promise<void> {
    const { c, pool } = await this.ctx(req, ref, tenant);
    await this.stacks.delete(c.principal, pool, await this.find(pool, name, id));
  }
}

import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Res,
  Type,
} from '@nestjs/common';
import { PARAMTYPES_METADATA } from '@nestjs/common/constants';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminOnly, ApiProblems, CurrentPrincipal, Page, Principal } from '@nephele/service-kit';
import { plain, sendResource } from './http.util';
import { ResourceService } from './resource.service';
import { resourcePageSchema, resourceSchema } from './resource.schema';
import { Resource, ResourceSpec } from './resource.types';

export interface CrudControllerOptions {
  /** URL segment under /v1 (`pools`), or under the parent (`profiles`). */
  path: string;
  tag: string;
  /** Singular, for the OpenAPI summaries (`pool`). */
  label: string;
  service: Type<ResourceService>;
  /** The resource's table description: the response schema is derived from it. */
  spec: ResourceSpec;
  createDto: Type;
  updateDto: Type;
  queryDto: Type;
  /** Writes need an admin token (global resources). */
  adminWrites?: boolean;
  /** A sub-resource: `/v1/<parent.path>/:<parent.param>/<path>` (provider profiles, implementations). */
  parent?: { path: string; param: string };
  /** Summaries that say more than the generic ones. */
  summaries?: Partial<Record<'list' | 'create' | 'get' | 'update' | 'remove', string>>;
}

const IF_MATCH = { name: 'If-Match', required: false, description: 'ETag from a read; 412 when stale' };

/**
 * The HTTP adapter of a configuration resource: list, create, get, update (PATCH with If-Match),
 * delete — for top-level resources and for sub-resources of a parent. Every resource shares it
 * instead of a copy of the same forty lines; the DTO classes are set as the parameter types, so the
 * validation pipe and OpenAPI see them exactly as in a hand-written controller.
 */
export function crudController(o: CrudControllerOptions): Type {
  const base = o.parent ? `v1/${o.parent.path}/:${o.parent.param}/${o.path}` : `v1/${o.path}`;
  const parentOf = (params: Record<string, string>) => (o.parent ? params[o.parent.param] : undefined);
  const href = (params: Record<string, string>, id: string) =>
    `/${base.replace(/:([A-Za-z]+)/g, (_, k: string) => params[k] ?? '')}/${id}`;
  const summary = (k: keyof NonNullable<CrudControllerOptions['summaries']>, d: string) =>
    o.summaries?.[k] ?? d;

  @ApiTags(o.tag)
  @ApiBearerAuth()
  @Controller(base)
  class CrudController {
    constructor(@Inject(o.service) readonly svc: ResourceService) {}

    @Get()
    @ApiOperation({ summary: summary('list', `List ${o.label}s (a scoped token sees its project's only)`) })
    list(
      @CurrentPrincipal() p: Principal,
      @Param() params: Record<string, string>,
      @Query() q: object,
    ): Promise<Page<Resource>> {
      return this.svc.list(p, plain(q), parentOf(params));
    }

    @Post()
    @ApiOperation({ summary: summary('create', `Create a ${o.label}`) })
    async create(
      @CurrentPrincipal() p: Principal,
      @Param() params: Record<string, string>,
      @Body() dto: object,
      @Res({ passthrough: true }) res: Response,
    ): Promise<Resource> {
      const r = await this.svc.create(p, plain(dto), parentOf(params));
      return sendResource(res, r, href(params, r.id));
    }

    @Get(':id')
    @ApiOperation({ summary: summary('get', `One ${o.label} (another project's answers 404)`) })
    async get(
      @CurrentPrincipal() p: Principal,
      @Param() params: Record<string, string>,
      @Res({ passthrough: true }) res: Response,
    ): Promise<Resource> {
      return sendResource(res, await this.svc.get(p, params.id!, parentOf(params)));
    }

    @Patch(':id')
    @ApiHeader(IF_MATCH)
    @ApiOperation({ summary: summary('update', `Change a ${o.label}`) })
    async update(
      @CurrentPrincipal() p: Principal,
      @Param() params: Record<string, string>,
      @Body() dto: object,
      @Headers('if-match') ifMatch: string | undefined,
      @Res({ passthrough: true }) res: Response,
    ): Promise<Resource> {
      return sendResource(res, await this.svc.update(p, params.id!, plain(dto), ifMatch, parentOf(params)));
    }

    @Delete(':id')
    @HttpCode(204)
    @ApiHeader(IF_MATCH)
    @ApiOperation({ summary: summary('remove', `Delete a ${o.label} (409 while something references it)`) })
    async remove(
      @CurrentPrincipal() p: Principal,
      @Param() params: Record<string, string>,
      @Headers('if-match') ifMatch: string | undefined,
    ): Promise<void> {
      await this.svc.remove(p, params.id!, ifMatch, parentOf(params));
    }
  }

  describeRoutes(CrudController, o);
  return CrudController;
}

/**
 * What decorators cannot say inside the factory: the DTO classes as parameter types (for the
 * validation pipe and OpenAPI), the path parameters, admin-only writes and the class name.
 */
function describeRoutes(ctrl: Type, o: CrudControllerOptions): void {
  const proto = ctrl.prototype as object;
  const types: [string, unknown[]][] = [
    ['list', [Object, Object, o.queryDto]],
    ['create', [Object, Object, o.createDto, Object]],
    ['update', [Object, Object, o.updateDto, String, Object]],
  ];
  for (const [method, paramTypes] of types)
    Reflect.defineMetadata(PARAMTYPES_METADATA, paramTypes, proto, method);
  for (const m of ['list', 'create', 'get', 'update', 'remove'] as const) {
    const d = Object.getOwnPropertyDescriptor(proto, m)!;
    if (o.parent) ApiParam({ name: o.parent.param, type: String })(proto, m, d);
    if (m === 'get' || m === 'update' || m === 'remove') ApiParam({ name: 'id', type: String })(proto, m, d);
  }
  if (o.adminWrites) {
    for (const m of ['create', 'update', 'remove'] as const) {
      AdminOnly()(proto, m, Object.getOwnPropertyDescriptor(proto, m)!);
    }
  }
  const schema = resourceSchema(o.spec);
  const page = resourcePageSchema(schema);
  // Every route: 401 without a valid token; under a parent, 404 when the parent is not visible.
  const common = o.parent ? [401, 404] : [401];
  const responses: Record<string, (MethodDecorator | ClassDecorator)[]> = {
    list: [ApiOkResponse({ schema: page }), ApiProblems(...common, 400)],
    create: [ApiCreatedResponse({ schema }), ApiProblems(...common, 400, 403, 409)],
    get: [ApiOkResponse({ schema }), ApiProblems(...common, 404)],
    update: [ApiOkResponse({ schema }), ApiProblems(...common, 400, 403, 404, 409, 412)],
    remove: [ApiNoContentResponse({ description: 'deleted' }), ApiProblems(...common, 403, 404, 409, 412)],
  };
  for (const [m, decorators] of Object.entries(responses)) {
    const d = Object.getOwnPropertyDescriptor(proto, m)!;
    for (const dec of decorators) (dec as MethodDecorator)(proto, m, d);
  }
  const name = (o.parent ? `${o.parent.path}-${o.path}` : o.path).replace(
    /(^|-)([a-z])/g,
    (_, __, c: string) => c.toUpperCase(),
  );
  Object.defineProperty(ctrl, 'name', { value: `${name}Controller` });
}

import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  ApiPage,
  ApiProblems,
  CurrentPrincipal,
  decodeCursor,
  encodeCursor,
  Page,
  parseLimit,
  Principal,
  ProblemException,
} from '@nephele/service-kit';
import { DeployableFormat } from './deployable-parser';
import { DeployableManifestDto } from './dto/manifest.dto';
import {
  DeletionDto,
  DeployableVersionDetailDto,
  DeployableVersionsDto,
  DeployableViewDto,
} from './dto/deployable-responses.dto';
import { Actor, DeployablesService, DeployableView } from './deployables.service';
import { DeployablesRepository } from './deployables.repository';

const UUID = /^[0-9a-f-]{36}$/i;

/**
 * The deployable document: XML (pacemaker-cloud) or YAML text by design, or the same manifest as
 * JSON; deployable-parser checks all three, naming the bad field.
 */
const DEPLOYABLE_BODY = {
  description: 'the deployable document: the manifest as JSON, or YAML or pacemaker-cloud XML text',
  schema: {
    oneOf: [
      { $ref: getSchemaPath(DeployableManifestDto) },
      { type: 'string', description: 'application/yaml or application/xml text' },
    ],
  },
};

export function actorOf(p: Principal, project?: string): Actor {
  return { id: p.tokenId, admin: p.role === 'admin', project: p.role === 'admin' ? project : p.project };
}

/** Body → (source text, format, parsed value): JSON objects, or YAML/XML text by content type. */
function bodyOf(
  req: Request,
  body: unknown,
): { source: string; format: DeployableFormat; input: string | object } {
  const ct = (req.headers['content-type'] ?? '').toLowerCase();
  if (typeof body === 'string') {
    const format: DeployableFormat = ct.includes('xml') ? 'xml' : 'yaml';
    return { source: body, format, input: body };
  }
  if (body && typeof body === 'object' && !Array.isArray(body))
    return { source: JSON.stringify(body), format: 'json', input: body };
  throw new ProblemException(
    415,
    'send the deployable as application/json, application/yaml or application/xml',
  );
}

@ApiTags('deployables')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('v1/deployables')
export class DeployablesController {
  constructor(
    private readonly deployables: DeployablesService,
    private readonly repo: DeployablesRepository,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a deployable (Nephele JSON/YAML or pacemaker-cloud XML) and start it' })
  @ApiConsumes('application/json', 'application/yaml', 'application/xml')
  @ApiExtraModels(DeployableManifestDto)
  @ApiBody(DEPLOYABLE_BODY)
  @ApiQuery({ name: 'project', required: false, description: 'admin tokens: the project' })
  @ApiQuery({ name: 'start', required: false, description: 'false: store it without starting' })
  @ApiCreatedResponse({ type: DeployableViewDto })
  @ApiProblems(400, 403, 404, 409, 415)
  async create(
    @Req() req: Request,
    @Body() body: unknown,
    @Query('project') project: string | undefined,
    @Query('start') start: string | undefined,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DeployableView> {
    const { source, format, input } = bodyOf(req, body);
    const doc = this.deployables.parse(input, format);
    const view = await this.deployables.create(source, format, doc, actorOf(p, project), {
      start: start !== 'false',
    });
    res.status(201).setHeader('Location', `/v1/deployables/${view.id}`).setHeader('ETag', view.etag);
    return view;
  }

  @Get()
  @ApiOperation({ summary: 'Deployables with their live status' })
  @ApiPage(DeployableViewDto)
  @ApiProblems(400)
  async list(
    @Query('project') project: string | undefined,
    @Query('cursor') cursor: string | undefined,
    @Query('limit') limit: string | undefined,
    @CurrentPrincipal() p: Principal,
  ): Promise<Page<DeployableView>> {
    const n = parseLimit(limit, 100, 1000);
    const after = decodeCursor(cursor, (v): v is { id: string } =>
      UUID.test(String((v as { id?: unknown })?.id)),
    );
    const r = await this.deployables.list(actorOf(p, project), after?.id, n);
    return { items: r.rows, nextCursor: r.more ? encodeCursor({ id: r.rows[r.rows.length - 1]!.id }) : null };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A deployable with live status: assemblies and services' })
  @ApiOkResponse({ type: DeployableViewDto })
  @ApiProblems(404)
  async get(
    @Param('id') id: string,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DeployableView> {
    const v = await this.deployables.get(id, actorOf(p));
    res.setHeader('ETag', v.etag);
    return v;
  }

  @Put(':id')
  @ApiOperation({ summary: 'Store a new version of the configuration (If-Match: the ETag you read)' })
  @ApiOkResponse({ type: DeployableViewDto })
  @ApiProblems(400, 403, 404, 409, 412, 415)
  @ApiConsumes('application/json', 'application/yaml', 'application/xml')
  @ApiExtraModels(DeployableManifestDto)
  @ApiBody(DEPLOYABLE_BODY)
  async update(
    @Param('id') id: string,
    @Req() req: Request,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DeployableView> {
    const { source, format, input } = bodyOf(req, body);
    const doc = this.deployables.parse(input, format);
    const v = await this.deployables.update(id, source, format, doc, actorOf(p), ifMatch);
    // 200 either way; `unchanged: true` (same version) when the document equals the current one.
    res.setHeader('ETag', v.etag);
    return v;
  }

  @Delete(':id')
  @HttpCode(202)
  @ApiOperation({ summary: 'Destroy: the DPE stops, instances are destroyed, the configuration is deleted' })
  @ApiAcceptedResponse({ type: DeletionDto })
  @ApiProblems(403, 404)
  destroy(
    @Param('id') id: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<{ id: string; instances: number }> {
    return this.deployables.destroy(id, actorOf(p));
  }

  @Post(':id/start')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DeployableViewDto })
  @ApiProblems(403, 404, 409)
  start(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<DeployableView> {
    return this.deployables.start(id, actorOf(p));
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DeployableViewDto })
  @ApiProblems(403, 404, 409)
  @ApiOperation({
    summary: 'Retry a failed deployable: its failure history and budgets start again, its DPE restarts',
  })
  retry(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<DeployableView> {
    return this.deployables.retry(id, actorOf(p));
  }

  @Post(':id/stop')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DeployableViewDto })
  @ApiProblems(403, 404, 409)
  stop(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<DeployableView> {
    return this.deployables.stop(id, actorOf(p));
  }

  @Get(':id/versions')
  @ApiOperation({ summary: 'Every stored version of the configuration' })
  @ApiOkResponse({ type: DeployableVersionsDto })
  @ApiProblems(404)
  async versions(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<{ items: unknown[] }> {
    const d = await this.deployables.find(id, actorOf(p));
    return { items: await this.repo.versions(d.id) };
  }

  @Get(':id/versions/:version')
  @ApiOperation({ summary: 'One stored version: its document and the source as sent' })
  @ApiOkResponse({ type: DeployableVersionDetailDto })
  @ApiProblems(404)
  async version(
    @Param('id') id: string,
    @Param('version') version: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<unknown> {
    const d = await this.deployables.find(id, actorOf(p));
    const n = Number(version);
    const v = Number.isInteger(n) ? await this.repo.version(d.id, n) : undefined;
    if (!v) throw ProblemException.notFound(`version ${version}`);
    return { version: n, ...v };
  }
}

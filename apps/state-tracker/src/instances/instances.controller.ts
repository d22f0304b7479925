import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { Inject } from '@nestjs/common';
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
  projectScope,
  Public,
} from '@nephele/service-kit';
import { StateTrackerConfig } from '../config/env';
import { TRACKER_CONFIG } from '../state-tracker.tokens';
import {
  CallbackResultDto,
  InstanceDetailDto,
  InstanceViewDto,
  ListInstancesDto,
  ProviderCallbackDto,
} from './dto/list-instances.dto';
import { InstanceView, normaliseState, toView } from './instance.mapping';
import { InstancesRepository } from './instances.repository';
import { InstancesService } from './instances.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@ApiTags('instances')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('v1/instances')
export class InstancesController {
  constructor(private readonly repo: InstancesRepository) {}

  @Get()
  @ApiOperation({ summary: 'Instances in the store, with filters and keyset pagination' })
  @ApiPage(InstanceViewDto)
  @ApiProblems(400)
  async list(@Query() q: ListInstancesDto, @CurrentPrincipal() p: Principal): Promise<Page<InstanceView>> {
    const limit = parseLimit(q.limit, 100, 1000);
    const after = decodeCursor(q.cursor, (v): v is { id: string } =>
      UUID.test(String((v as { id?: unknown })?.id)),
    );
    const project = p.role === 'admin' ? q.project : p.project;
    const rows = await this.repo.find(
      {
        owner: q.owner,
        ownerPrefix: q.ownerPrefix,
        pool: q.pool,
        state: q.state,
        providerAccountId: q.providerAccountId,
        project,
        afterId: after?.id,
      },
      limit + 1,
    );
    const page = rows.slice(0, limit);
    return {
      items: page.map(toView),
      nextCursor: rows.length > limit ? encodeCursor({ id: page[page.length - 1]!.id }) : null,
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One instance with its state history' })
  @ApiOkResponse({ type: InstanceDetailDto })
  @ApiProblems(404)
  async get(
    @Param('id') id: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<InstanceView & { history: unknown[] }> {
    const row = UUID.test(id) ? await this.repo.get(id) : undefined;
    if (!row || (p.role !== 'admin' && row.project !== projectScope(p)))
      throw ProblemException.notFound(`instance ${id}`);
    const history = await this.repo.history(id);
    return { ...toView(row), history };
  }
}

/**
 * Provider callbacks: `POST /v1/callbacks/{providerAccountId}` signed with HMAC-SHA256 of the raw
 * body under NEPHELE_CALLBACK_SECRET (`X-Nephele-Signature: sha256=<hex>`).
 */
@ApiTags('callbacks')
@Controller('v1/callbacks')
export class CallbacksController {
  constructor(
    private readonly instances: InstancesService,
    @Inject(TRACKER_CONFIG) private readonly config: StateTrackerConfig,
  ) {}

  @Public()
  @Post(':provider')
  @HttpCode(202)
  @ApiOperation({ summary: 'A provider reports an instance state change (HMAC-signed)' })
  @ApiAcceptedResponse({ type: CallbackResultDto })
  @ApiProblems(400, 401)
  async callback(
    @Param('provider') provider: string,
    @Body() body: ProviderCallbackDto,
    @Req() req: Request & { rawBody?: Buffer },
  ): Promise<{ applied: boolean }> {
    const secret = this.config.callbackSecret;
    if (!secret)
      throw new ProblemException(503, 'provider callbacks are disabled (NEPHELE_CALLBACK_SECRET is not set)');
    const sig = String(req.headers['x-nephele-signature'] ?? '');
    const want = `sha256=${createHmac('sha256', secret)
      .update(req.rawBody ?? Buffer.alloc(0))
      .digest('hex')}`;
    if (sig.length !== want.length || !timingSafeEqual(Buffer.from(sig), Buffer.from(want))) {
      throw new ProblemException(401, 'missing or invalid X-Nephele-Signature');
    }
    const state = normaliseState(body.state)!;
    const applied = await this.instances.observeByProvider(provider, body.providerInstanceId, {
      state,
      addresses: body.addresses,
      reason: body.reason ?? `callback: ${body.state}`,
      source: 'callback',
    });
    if (!applied) throw ProblemException.notFound(`instance ${body.providerInstanceId} of ${provider}`);
    return { applied };
  }
}

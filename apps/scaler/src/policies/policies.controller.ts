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
  Put,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  AlarmArgsDto,
  CreateWebhookDto,
  ScheduleArgsDto,
  TargetArgsDto,
  ExecutionView,
  PolicyDto,
  PolicyListView,
  PolicyView,
  WebhookCreatedView,
  WebhookListView,
  WebhookView,
} from './dto/policy.dto';
import type { Response } from 'express';
import { AppLogger } from '@nephele/observability';
import { ApiProblems, CurrentPrincipal, etagOf, LOGGER, Principal, Public } from '@nephele/service-kit';
import { ScalerConfig } from '../config/env';
import { policyView, webhookView } from '../state/group.types';
import { SCALER_CONFIG } from '../scaler.tokens';
import { capabilityHash, PoliciesService } from './policies.service';
import { CapabilityRateLimiter } from './rate-limiter';
import { GroupVisibleGuard } from '../groups/group-visible.guard';

@ApiTags('policies')
@ApiExtraModels(ScheduleArgsDto, AlarmArgsDto, TargetArgsDto)
@ApiBearerAuth()
@Controller('v1/groups/:id/policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Post()
  @ApiOperation({
    summary: 'Add a policy {name, cooldown, type, change|changePercent|desiredCapacity, args}',
  })
  @ApiBody({ type: PolicyDto })
  @ApiCreatedResponse({ type: PolicyView })
  @ApiProblems(400, 401, 403, 404, 409)
  @UseGuards(GroupVisibleGuard)
  async create(
    @Param('id') id: string,
    @Body() body: PolicyDto,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const row = await this.policies.create(id, body, p);
    res
      .status(201)
      .setHeader('Location', `/v1/groups/${id}/policies/${row.id}`)
      .setHeader('ETag', etagOf(row.version));
    return policyView(row);
  }

  @Get()
  @ApiOkResponse({ type: PolicyListView })
  @ApiProblems(401, 404)
  async list(@Param('id') id: string, @CurrentPrincipal() p: Principal) {
    return { items: (await this.policies.list(id, p)).map(policyView), nextCursor: null };
  }

  @Get(':pid')
  @ApiOkResponse({ type: PolicyView })
  @ApiProblems(401, 404)
  async get(
    @Param('id') id: string,
    @Param('pid') pid: string,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const row = await this.policies.policy(id, pid, p);
    res.setHeader('ETag', etagOf(row.version));
    return policyView(row);
  }

  @Put(':pid')
  @ApiBody({ type: PolicyDto })
  @ApiOkResponse({ type: PolicyView })
  @ApiProblems(400, 401, 403, 404, 412)
  @UseGuards(GroupVisibleGuard)
  async replace(
    @Param('id') id: string,
    @Param('pid') pid: string,
    @Body() body: PolicyDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const row = await this.policies.replace(id, pid, body, ifMatch, p);
    res.setHeader('ETag', etagOf(row.version));
    return policyView(row);
  }

  @Delete(':pid')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(401, 403, 404)
  async remove(
    @Param('id') id: string,
    @Param('pid') pid: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<void> {
    await this.policies.remove(id, pid, p);
  }

  @Post(':pid/execute')
  @HttpCode(202)
  @ApiOperation({ summary: 'Execute a policy now (403 within a cooldown, 409 while paused)' })
  @ApiAcceptedResponse({ type: ExecutionView })
  @ApiProblems(401, 403, 404, 409)
  execute(@Param('id') id: string, @Param('pid') pid: string, @CurrentPrincipal() p: Principal) {
    return this.policies.execute(id, pid, p);
  }

  @Post(':pid/webhooks')
  @ApiOperation({ summary: 'Create a capability webhook; its URL is shown this once' })
  @ApiCreatedResponse({ type: WebhookCreatedView })
  @ApiProblems(400, 401, 403, 404)
  @UseGuards(GroupVisibleGuard)
  async createWebhook(
    @Param('id') id: string,
    @Param('pid') pid: string,
    @Body() body: CreateWebhookDto,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { row, capability } = await this.policies.createWebhook(id, pid, body, p);
    res.status(201).setHeader('Location', `/v1/groups/${id}/policies/${pid}/webhooks/${row.id}`);
    return { ...webhookView(row), capabilityUrl: `/v1/execute/1/${capability}` };
  }

  @Get(':pid/webhooks')
  @ApiOkResponse({ type: WebhookListView })
  @ApiProblems(401, 404)
  async listWebhooks(@Param('id') id: string, @Param('pid') pid: string, @CurrentPrincipal() p: Principal) {
    return { items: (await this.policies.listWebhooks(id, pid, p)).map(webhookView), nextCursor: null };
  }

  @Get(':pid/webhooks/:wid')
  @ApiOkResponse({ type: WebhookView })
  @ApiProblems(401, 404)
  async getWebhook(
    @Param('id') id: string,
    @Param('pid') pid: string,
    @Param('wid') wid: string,
    @CurrentPrincipal() p: Principal,
  ) {
    return webhookView(await this.policies.webhook(id, pid, wid, p));
  }

  @Delete(':pid/webhooks/:wid')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(401, 403, 404)
  async removeWebhook(
    @Param('id') id: string,
    @Param('pid') pid: string,
    @Param('wid') wid: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<void> {
    await this.policies.removeWebhook(id, pid, wid, p);
  }
}

/** Anonymous capability URLs (Otter's `/v1.0/execute/1/{capability}`): always 202. */
@ApiTags('policies')
@Controller('v1/execute')
export class ExecuteController {
  private readonly limiter: CapabilityRateLimiter;

  constructor(
    private readonly policies: PoliciesService,
    @Inject(SCALER_CONFIG) config: ScalerConfig,
    @Inject(LOGGER) private readonly log: AppLogger,
  ) {
    this.limiter = new CapabilityRateLimiter(config.rateLimit);
  }

  @Public()
  @Post('1/:capability')
  @ApiOperation({ summary: 'Execute the policy behind a capability URL (202 whether or not it exists)' })
  @ApiAcceptedResponse({ description: 'Accepted (no body, whether or not the capability exists)' })
  @ApiProblems(429)
  async execute(@Param('capability') capability: string, @Res() res: Response): Promise<void> {
    // Answered by hand: the capability is a bearer secret and must not reach the logs, and the
    // exception filter logs the path of every 5xx; no body either way, so nothing leaks.
    const wait = this.limiter.take(capabilityHash(capability.slice(0, 128)));
    if (wait) {
      res
        .status(429)
        .setHeader('Retry-After', String(Math.ceil(wait / 1000)))
        .type('application/problem+json')
        .send(
          JSON.stringify({
            type: 'about:blank',
            title: 'Too Many Requests',
            status: 429,
            detail: 'slow down',
          }),
        );
      return;
    }
    try {
      await this.policies.executeCapability(capability);
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'capability execution failed');
      res
        .status(503)
        .setHeader('Retry-After', '1')
        .type('application/problem+json')
        .send(
          JSON.stringify({
            type: 'about:blank',
            title: 'Service Unavailable',
            status: 503,
            detail: 'try again',
          }),
        );
      return;
    }
    res.status(202).end();
  }
}

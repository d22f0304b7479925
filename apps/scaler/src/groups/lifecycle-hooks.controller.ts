import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiProblems, CurrentPrincipal, Principal } from '@nephele/service-kit';
import {
  CompleteLifecycleActionDto,
  LifecycleHeartbeatDto,
  LifecycleHookListView,
  LifecycleHookView,
  LifecycleWaitView,
  PutLifecycleHookDto,
} from './dto/lifecycle.dto';
import { GroupsService } from './groups.service';
import { LifecycleHooksService } from './lifecycle-hooks.service';
import { GroupVisibleGuard } from './group-visible.guard';

/** Lifecycle hooks and the calls that end or extend a server's wait (Note [Lifecycle hooks]). */
@ApiTags('groups')
@ApiBearerAuth()
@UseGuards(GroupVisibleGuard)
@Controller('v1/groups/:id')
export class LifecycleHooksController {
  constructor(
    private readonly groups: GroupsService,
    private readonly hooks: LifecycleHooksService,
  ) {}

  @Get('lifecycle-hooks')
  @ApiOperation({ summary: 'The lifecycle hooks of a group' })
  @ApiOkResponse({ type: LifecycleHookListView })
  @ApiProblems(401, 404)
  async list(@Param('id') id: string, @CurrentPrincipal() p: Principal) {
    return this.hooks.list(await this.groups.visible(id, p));
  }

  @Put('lifecycle-hooks/:name')
  @ApiOperation({ summary: 'Create or replace a hook {kind, timeout, defaultResult}; one per kind' })
  @ApiOkResponse({ type: LifecycleHookView, description: 'Replaced' })
  @ApiCreatedResponse({ type: LifecycleHookView, description: 'Created' })
  @ApiConflictResponse({ description: 'The group already has another hook of this kind' })
  @ApiProblems(400, 401, 403, 404)
  async put(
    @Param('id') id: string,
    @Param('name') name: string,
    @Body() body: PutLifecycleHookDto,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<LifecycleHookView> {
    const { hook, created } = await this.hooks.put(await this.groups.visible(id, p), name, body, p);
    if (created) res.status(201).setHeader('Location', `/v1/groups/${id}/lifecycle-hooks/${name}`);
    return hook;
  }

  @Delete('lifecycle-hooks/:name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a hook (servers waiting on it go on as with CONTINUE)' })
  @ApiNoContentResponse()
  @ApiProblems(401, 403, 404)
  async remove(
    @Param('id') id: string,
    @Param('name') name: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<void> {
    await this.hooks.remove(await this.groups.visible(id, p), name, p);
  }

  @Post('servers/:sid/lifecycle-action')
  @HttpCode(200)
  @ApiOperation({ summary: 'complete-lifecycle-action: end the wait of a server with CONTINUE or ABANDON' })
  @ApiOkResponse({ type: LifecycleWaitView })
  @ApiConflictResponse({ description: 'The server does not wait on this hook' })
  @ApiProblems(400, 401, 403, 404)
  async complete(
    @Param('id') id: string,
    @Param('sid') sid: string,
    @Body() body: CompleteLifecycleActionDto,
    @CurrentPrincipal() p: Principal,
  ): Promise<LifecycleWaitView> {
    return this.hooks.complete(await this.groups.visible(id, p), sid, body, p);
  }

  @Post('servers/:sid/lifecycle-heartbeat')
  @HttpCode(200)
  @ApiOperation({ summary: "Restart the hook's timeout for a waiting server" })
  @ApiOkResponse({ type: LifecycleWaitView })
  @ApiConflictResponse({ description: 'The server does not wait on this hook' })
  @ApiProblems(400, 401, 403, 404)
  async heartbeat(
    @Param('id') id: string,
    @Param('sid') sid: string,
    @Body() body: LifecycleHeartbeatDto,
    @CurrentPrincipal() p: Principal,
  ): Promise<LifecycleWaitView> {
    return this.hooks.heartbeat(await this.groups.visible(id, p), sid, body.hook, p);
  }
}

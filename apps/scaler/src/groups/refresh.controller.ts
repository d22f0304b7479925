import { Body, Controller, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiProblems, CurrentPrincipal, Principal } from '@nephele/service-kit';
import { RefreshView, StartRefreshDto } from './dto/refresh.dto';
import { GroupsService } from './groups.service';
import { RefreshService } from './refresh.service';
import { GroupVisibleGuard } from './group-visible.guard';

/** Instance refresh of a group: progress, start, pause, resume, cancel (Note [Instance refresh]). */
@ApiTags('groups')
@ApiBearerAuth()
@UseGuards(GroupVisibleGuard)
@Controller('v1/groups/:id/refresh')
export class RefreshController {
  constructor(
    private readonly groups: GroupsService,
    private readonly refresh: RefreshService,
  ) {}

  @Get()
  @ApiOperation({ summary: "The group's latest instance refresh with its progress" })
  @ApiOkResponse({ type: RefreshView })
  @ApiNotFoundResponse({ description: 'No such group, or it never had a refresh' })
  @ApiProblems(401)
  async get(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<RefreshView> {
    return this.refresh.get(await this.groups.visible(id, p));
  }

  @Post()
  @ApiOperation({
    summary: 'Start a refresh: replace the servers not at the current launch config, batch by batch',
  })
  @ApiCreatedResponse({ type: RefreshView })
  @ApiConflictResponse({ description: 'A refresh is already in flight' })
  @ApiProblems(400, 401, 403, 404)
  async start(
    @Param('id') id: string,
    @Body() body: StartRefreshDto,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RefreshView> {
    const view = await this.refresh.start(await this.groups.visible(id, p), body, p);
    res.status(201).setHeader('Location', `/v1/groups/${id}/refresh`);
    return view;
  }

  @Post('pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hold a running refresh (a batch in flight keeps its warmup clock)' })
  @ApiOkResponse({ type: RefreshView })
  @ApiConflictResponse({ description: 'No running refresh' })
  @ApiProblems(401, 403, 404)
  async pause(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<RefreshView> {
    return this.refresh.act(await this.groups.visible(id, p), 'pause', p);
  }

  @Post('resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused refresh' })
  @ApiOkResponse({ type: RefreshView })
  @ApiConflictResponse({ description: 'No paused refresh' })
  @ApiProblems(401, 403, 404)
  async resume(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<RefreshView> {
    return this.refresh.act(await this.groups.visible(id, p), 'resume', p);
  }

  @Post('cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop the refresh where it is (servers already replaced stay)' })
  @ApiOkResponse({ type: RefreshView })
  @ApiConflictResponse({ description: 'No refresh in flight' })
  @ApiProblems(401, 403, 404)
  async cancel(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<RefreshView> {
    return this.refresh.act(await this.groups.visible(id, p), 'cancel', p);
  }
}

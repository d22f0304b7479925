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
  CreateGroupDto,
  DeliveryListView,
  GroupConfigDto,
  GroupConfigView,
  GroupListView,
  GroupStateView,
  GroupView,
  LaunchConfigView,
  PutLaunchConfigDto,
  ServerProtectionView,
} from './dto/group.dto';
import type { Response } from 'express';
import { ApiProblems, CurrentPrincipal, etagOf, Principal, ProblemException } from '@nephele/service-kit';
import { ServerProtectionDto } from './dto/server-protection.dto';
import { StartRefreshDto } from './dto/refresh.dto';
import { AlarmArgsDto, ScheduleArgsDto, TargetArgsDto } from '../policies/dto/policy.dto';
import { GroupsService } from './groups.service';
import { GroupVisibleGuard } from './group-visible.guard';
import { GroupServersService } from './group-servers.service';

function flag(raw: string | undefined, field: string, def: boolean): boolean {
  if (raw === undefined) return def;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw ProblemException.badRequest('invalid query', [{ field, message: `${field} must be true or false` }]);
}

@ApiTags('groups')
@ApiExtraModels(StartRefreshDto, ScheduleArgsDto, AlarmArgsDto, TargetArgsDto)
@ApiBearerAuth()
@Controller('v1/groups')
export class GroupsController {
  constructor(
    private readonly groups: GroupsService,
    private readonly servers: GroupServersService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a group: {config, launchConfig, policies?, project?}' })
  @ApiBody({ type: CreateGroupDto })
  @ApiCreatedResponse({ type: GroupView })
  @ApiProblems(400, 401, 403)
  async create(
    @Body() body: CreateGroupDto,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { group, policies } = await this.groups.create(body, p);
    res.status(201).setHeader('Location', `/v1/groups/${group.id}`).setHeader('ETag', etagOf(group.version));
    return this.groups.view(group, policies);
  }

  @Get()
  @ApiOperation({ summary: 'Groups, keyset-paginated' })
  @ApiOkResponse({ type: GroupListView })
  @ApiProblems(400, 401)
  list(
    @CurrentPrincipal() p: Principal,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
    @Query('project') project?: string,
  ) {
    return this.groups.list(p, { limit, cursor, project });
  }

  @Get(':id')
  @ApiOperation({ summary: 'A group with its config, launch config and policies' })
  @ApiOkResponse({ type: GroupView })
  @ApiProblems(401, 404)
  async get(
    @Param('id') id: string,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { group, policies } = await this.groups.get(id, p);
    res.setHeader('ETag', etagOf(group.version));
    return this.groups.view(group, policies);
  }

  @Get(':id/config')
  @ApiOkResponse({ type: GroupConfigView })
  @ApiProblems(401, 404)
  async getConfig(
    @Param('id') id: string,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { group } = await this.groups.get(id, p);
    res.setHeader('ETag', etagOf(group.version));
    return this.groups.view(group).config;
  }

  @Put(':id/config')
  @ApiOperation({ summary: 'Replace the group config (If-Match: the group ETag)' })
  @ApiBody({ type: GroupConfigDto })
  @ApiOkResponse({ type: GroupConfigView })
  @ApiProblems(400, 401, 403, 404, 412)
  @UseGuards(GroupVisibleGuard)
  async putConfig(
    @Param('id') id: string,
    @Body() body: GroupConfigDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const g = await this.groups.updateConfig(id, body, ifMatch, p);
    res.setHeader('ETag', etagOf(g.version));
    return this.groups.view(g).config;
  }

  @Get(':id/launch')
  @ApiOkResponse({ type: LaunchConfigView })
  @ApiProblems(401, 404)
  async getLaunch(
    @Param('id') id: string,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { group } = await this.groups.get(id, p);
    res.setHeader('ETag', etagOf(group.version));
    return group.launch_config;
  }

  @Put(':id/launch')
  @ApiOperation({
    summary:
      'Replace the launch config (If-Match: the group ETag); a change starts an instance refresh, set by an optional `refresh: {minHealthyPercentage, batchSize, warmup}` or skipped with `refresh: false`',
  })
  @ApiBody({ type: PutLaunchConfigDto })
  @ApiOkResponse({ type: LaunchConfigView })
  @ApiProblems(400, 401, 403, 404, 409, 412)
  @UseGuards(GroupVisibleGuard)
  async putLaunch(
    @Param('id') id: string,
    @Body() body: PutLaunchConfigDto,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ) {
    const g = await this.groups.updateLaunch(id, body, ifMatch, p);
    res.setHeader('ETag', etagOf(g.version));
    return g.launch_config;
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a group (409 while it has servers, unless ?force=true)' })
  @ApiNoContentResponse({ description: 'Deleted (no servers)' })
  @ApiAcceptedResponse({ description: 'Deleting: its servers go first' })
  @ApiProblems(400, 401, 403, 404, 409)
  async remove(
    @Param('id') id: string,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
    @Query('force') force?: string,
  ): Promise<void> {
    const gone = await this.groups.delete(id, flag(force, 'force', false), p);
    res.status(gone ? 204 : 202);
  }

  @Get(':id/state')
  @ApiOperation({ summary: 'Desired, active and pending capacity, servers, status and errors' })
  @ApiOkResponse({ type: GroupStateView })
  @ApiProblems(401, 404)
  state(@Param('id') id: string, @CurrentPrincipal() p: Principal) {
    return this.servers.state(id, p);
  }

  @Post(':id/pause')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Paused' })
  @ApiProblems(401, 403, 404)
  async pause(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<void> {
    await this.groups.setPaused(id, true, p);
  }

  @Post(':id/resume')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Resumed' })
  @ApiProblems(401, 403, 404)
  async resume(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<void> {
    await this.groups.setPaused(id, false, p);
  }

  @Post(':id/converge')
  @HttpCode(202)
  @ApiOperation({ summary: 'Force a convergence pass (also lifts a launch suspension)' })
  @ApiAcceptedResponse({ description: 'A pass is requested' })
  @ApiProblems(401, 403, 404)
  async converge(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<void> {
    await this.groups.converge(id, p);
  }

  @Delete(':id/servers/:sid')
  @HttpCode(202)
  @ApiOperation({ summary: 'Remove a server; ?replace=false also lowers the desired capacity' })
  @ApiAcceptedResponse({ description: 'The server is leaving' })
  @ApiProblems(400, 401, 403, 404)
  async removeServer(
    @Param('id') id: string,
    @Param('sid') sid: string,
    @CurrentPrincipal() p: Principal,
    @Query('replace') replace?: string,
  ): Promise<void> {
    await this.servers.deleteServer(id, sid, flag(replace, 'replace', true), p);
  }

  @Put(':id/servers/:sid/protection')
  @UseGuards(GroupVisibleGuard)
  @ApiOperation({ summary: 'Protect a server from scale-in, or lift the protection: {protected}' })
  @ApiOkResponse({ type: ServerProtectionView })
  @ApiProblems(400, 401, 403, 404)
  protection(
    @Param('id') id: string,
    @Param('sid') sid: string,
    @Body() body: ServerProtectionDto,
    @CurrentPrincipal() p: Principal,
  ) {
    return this.servers.setProtection(id, sid, body.protected, p);
  }

  @Post(':id/servers/:sid/detach')
  @HttpCode(202)
  @ApiOperation({ summary: 'Keep a failed server for debugging, outside the group (it is replaced)' })
  @ApiAcceptedResponse({ description: 'The server is detached and replaced' })
  @ApiProblems(401, 403, 404, 409)
  async detach(@Param('id') id: string, @Param('sid') sid: string, @CurrentPrincipal() p: Principal) {
    await this.servers.detach(id, sid, p);
  }

  @Get(':id/webhook-deliveries')
  @ApiOperation({ summary: 'Customer webhook deliveries of the group, with every attempt' })
  @ApiOkResponse({ type: DeliveryListView })
  @ApiProblems(401, 404)
  deliveries(@Param('id') id: string, @CurrentPrincipal() p: Principal) {
    return this.groups.deliveryHistory(id, p);
  }
}

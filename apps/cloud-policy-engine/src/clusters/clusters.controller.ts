import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiPage, ApiProblems, CurrentPrincipal, Principal } from '@nephele/service-kit';
import { DeletionDto } from '../deployables/dto/deployable-responses.dto';
import { actorOf } from '../deployables/deployables.controller';
import { ClustersService, ClusterView } from './clusters.service';
import { ClusterViewDto, CreateClusterDto } from './dto/cluster.dto';

@ApiTags('clusters')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('v1/clusters')
export class ClustersController {
  constructor(private readonly clusters: ClustersService) {}

  @Post()
  @ApiOperation({
    summary:
      'Create a cluster from an appliance implementation with parameters (a deployable made from its template)',
  })
  @ApiQuery({ name: 'project', required: false })
  @ApiCreatedResponse({ type: ClusterViewDto })
  @ApiProblems(400, 403, 404, 409)
  async create(
    @Body() dto: CreateClusterDto,
    @Query('project') project: string | undefined,
    @CurrentPrincipal() p: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ClusterView> {
    const v = await this.clusters.create(dto, actorOf(p, project));
    res.status(201).setHeader('Location', `/v1/clusters/${v.id}`);
    return v;
  }

  @Get()
  @ApiOperation({ summary: 'Clusters (every one in one page)' })
  @ApiQuery({ name: 'project', required: false })
  @ApiPage(ClusterViewDto)
  @ApiProblems(400)
  async list(
    @Query('project') project: string | undefined,
    @CurrentPrincipal() p: Principal,
  ): Promise<{ items: ClusterView[]; nextCursor: null }> {
    return { items: await this.clusters.list(actorOf(p, project)), nextCursor: null };
  }

  @Get(':id')
  @ApiOperation({
    summary: 'A cluster: status and outputs (assembly addresses, the template’s declared outputs)',
  })
  @ApiOkResponse({ type: ClusterViewDto })
  @ApiProblems(404)
  get(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<ClusterView> {
    return this.clusters.get(id, actorOf(p));
  }

  @Delete(':id')
  @HttpCode(202)
  @ApiOperation({ summary: 'Free every resource of the cluster' })
  @ApiAcceptedResponse({ type: DeletionDto })
  @ApiProblems(403, 404)
  delete(
    @Param('id') id: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<{ id: string; instances: number }> {
    return this.clusters.delete(id, actorOf(p));
  }
}

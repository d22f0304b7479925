import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Principal } from '@nephele/service-kit';
import { actorOf } from '../deployables/deployables.controller';
import { ClustersService, ClusterView } from './clusters.service';
import { CreateClusterDto } from './dto/cluster.dto';

@ApiTags('clusters')
@ApiBearerAuth()
@Controller('v1/clusters')
export class ClustersController {
  constructor(private readonly clusters: ClustersService) {}

  @Post()
  @ApiOperation({
    summary:
      'Create a cluster from an appliance implementation with parameters (a deployable made from its template)',
  })
  @ApiQuery({ name: 'project', required: false })
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
  get(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<ClusterView> {
    return this.clusters.get(id, actorOf(p));
  }

  @Delete(':id')
  @HttpCode(202)
  @ApiOperation({ summary: 'Free every resource of the cluster' })
  delete(
    @Param('id') id: string,
    @CurrentPrincipal() p: Principal,
  ): Promise<{ id: string; instances: number }> {
    return this.clusters.delete(id, actorOf(p));
  }
}

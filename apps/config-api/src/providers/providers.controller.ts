import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminOnly, ApiProblems, CurrentPrincipal, Page, Principal } from '@nephele/service-kit';
import { crudController } from '../common/crud.controller';
import { plain, sendResource } from '../common/http.util';
import { resourcePageSchema, resourceSchema } from '../common/resource.schema';
import { Resource } from '../common/resource.types';
import {
  CreateProviderDto,
  CreateProviderProfileDto,
  CreateRealmDto,
  ListProviderProfilesQueryDto,
  ListProvidersQueryDto,
  ListRealmsQueryDto,
  UpdateProviderDto,
  UpdateProviderProfileDto,
  UpdateRealmDto,
} from './dto/provider.dto';
import { ProviderProfilesService, ProvidersService, RealmsService } from './providers.service';
import { PROVIDERS, PROVIDER_PROFILES, REALMS } from './providers.resource';

const PROVIDER = resourceSchema(PROVIDERS);

const IF_MATCH = { name: 'If-Match', required: false, description: 'ETag from a read; 412 when stale' };

@ApiTags('providers')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('v1/providers')
export class ProvidersController {
  constructor(private readonly providers: ProvidersService) {}

  @Get()
  @ApiOperation({ summary: 'List providers (global; every token may read)' })
  @ApiOkResponse({ schema: resourcePageSchema(PROVIDER) })
  @ApiProblems(400)
  list(@CurrentPrincipal() p: Principal, @Query() q: ListProvidersQueryDto): Promise<Page<Resource>> {
    return this.providers.list(p, plain(q));
  }

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Create a provider (admin)' })
  @ApiCreatedResponse({ schema: PROVIDER })
  @ApiProblems(400, 403, 409)
  async create(
    @CurrentPrincipal() p: Principal,
    @Body() dto: CreateProviderDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Resource> {
    const r = await this.providers.create(p, plain(dto));
    return sendResource(res, r, `/v1/providers/${r.id}`);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One provider' })
  @ApiOkResponse({ schema: PROVIDER })
  @ApiProblems(404)
  async get(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Resource> {
    return sendResource(res, await this.providers.get(p, id));
  }

  @Patch(':id')
  @AdminOnly()
  @ApiHeader(IF_MATCH)
  @ApiOperation({ summary: 'Change a provider (admin)' })
  @ApiOkResponse({ schema: PROVIDER })
  @ApiProblems(400, 403, 404, 409, 412)
  async update(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateProviderDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Resource> {
    return sendResource(res, await this.providers.update(p, id, plain(dto), ifMatch));
  }

  @Delete(':id')
  @AdminOnly()
  @HttpCode(204)
  @ApiHeader(IF_MATCH)
  @ApiOperation({
    summary: 'Delete a provider (admin; 409 while profiles, realms, accounts or implementations use it)',
  })
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiProblems(403, 404, 409, 412)
  async remove(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.providers.remove(p, id, ifMatch);
  }
}

export const ProviderProfilesController = crudController({
  parent: { path: 'providers', param: 'providerId' },
  path: 'profiles',
  tag: 'providers',
  label: 'provider profile',
  service: ProviderProfilesService,
  spec: PROVIDER_PROFILES,
  createDto: CreateProviderProfileDto,
  updateDto: UpdateProviderProfileDto,
  queryDto: ListProviderProfilesQueryDto,
  adminWrites: true,
  summaries: { list: "A provider's hardware profiles (flavours)", create: 'Add a provider profile (admin)' },
});

export const RealmsController = crudController({
  parent: { path: 'providers', param: 'providerId' },
  path: 'realms',
  tag: 'providers',
  label: 'realm',
  service: RealmsService,
  spec: REALMS,
  createDto: CreateRealmDto,
  updateDto: UpdateRealmDto,
  queryDto: ListRealmsQueryDto,
  adminWrites: true,
  summaries: { list: "A provider's realms (availability zones)", create: 'Add a realm (admin)' },
});

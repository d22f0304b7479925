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
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiPage, ApiProblems, CurrentPrincipal, Page, Principal, etagOf } from '@nephele/service-kit';
import {
  CreateFeedDto,
  FeedViewDto,
  ListFeedsQueryDto,
  ProjectQueryDto,
  UpdateFeedDto,
} from './dto/feed.dto';
import { FeedView } from './feed.types';
import { FeedsService, toView } from './feeds.service';

@ApiTags('feeds')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('v1/feeds')
export class FeedsController {
  constructor(private readonly feeds: FeedsService) {}

  @Post()
  @ApiOperation({ summary: 'Add an Atom feed to poll (credentials are write-only and stored encrypted)' })
  @ApiCreatedResponse({ type: FeedViewDto })
  @ApiProblems(400, 403, 409)
  async create(
    @CurrentPrincipal() p: Principal,
    @Body() dto: CreateFeedDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<FeedView> {
    const view = await this.feeds.create(p, dto);
    res.status(201).setHeader('Location', `/v1/feeds/${view.id}`).setHeader('ETag', etagOf(view.version));
    return view;
  }

  @Get()
  @ApiOperation({ summary: 'List feeds (keyset pagination)' })
  @ApiPage(FeedViewDto)
  @ApiProblems(400)
  list(@CurrentPrincipal() p: Principal, @Query() q: ListFeedsQueryDto): Promise<Page<FeedView>> {
    return this.feeds.list(p, q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One feed with its polling status' })
  @ApiOkResponse({ type: FeedViewDto })
  @ApiProblems(404)
  async get(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query() q: ProjectQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<FeedView> {
    const view = toView(await this.feeds.find(p, id, q.project));
    res.setHeader('ETag', etagOf(view.version));
    return view;
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a feed (If-Match: its ETag); a new URL resets the cursor' })
  @ApiOkResponse({ type: FeedViewDto })
  @ApiProblems(400, 403, 404, 409, 412)
  async update(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() dto: UpdateFeedDto,
    @Query() q: ProjectQueryDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<FeedView> {
    const view = await this.feeds.update(p, id, dto, ifMatch, q.project);
    res.setHeader('ETag', etagOf(view.version));
    return view;
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Stop polling a feed and forget it' })
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiProblems(403, 404, 412)
  async delete(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query() q: ProjectQueryDto,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.feeds.delete(p, id, ifMatch, q.project);
  }
}

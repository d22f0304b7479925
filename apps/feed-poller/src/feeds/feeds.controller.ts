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
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Page, Principal, etagOf } from '@nephele/service-kit';
import { CreateFeedDto, ListFeedsQueryDto, ProjectQueryDto, UpdateFeedDto } from './dto/feed.dto';
import { FeedView } from './feed.types';
import { FeedsService, toView } from './feeds.service';

@ApiTags('feeds')
@ApiBearerAuth()
@Controller('v1/feeds')
export class FeedsController {
  constructor(private readonly feeds: FeedsService) {}

  @Post()
  @ApiOperation({ summary: 'Add an Atom feed to poll (credentials are write-only and stored encrypted)' })
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
  list(@CurrentPrincipal() p: Principal, @Query() q: ListFeedsQueryDto): Promise<Page<FeedView>> {
    return this.feeds.list(p, q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One feed with its polling status' })
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
  async delete(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query() q: ProjectQueryDto,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.feeds.delete(p, id, ifMatch, q.project);
  }
}

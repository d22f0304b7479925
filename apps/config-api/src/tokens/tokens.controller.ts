import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiPage, ApiProblems, CurrentPrincipal, etagOf, Page, Principal } from '@nephele/service-kit';
import { CreatedTokenDto, CreateTokenDto, ListTokensQueryDto, TokenViewDto } from './dto/token.dto';
import { TokensService, TokenView } from './tokens.service';

@ApiTags('tokens')
@ApiBearerAuth()
@ApiProblems(401)
@Controller('v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Get()
  @ApiOperation({ summary: 'List active tokens (never their values)' })
  @ApiPage(TokenViewDto)
  @ApiProblems(400)
  list(@CurrentPrincipal() p: Principal, @Query() q: ListTokensQueryDto): Promise<Page<TokenView>> {
    return this.tokens.list(p, q);
  }

  @Post()
  @ApiOperation({ summary: 'Create a token; the response carries its value this once' })
  @ApiCreatedResponse({ type: CreatedTokenDto })
  @ApiProblems(400, 403)
  async create(
    @CurrentPrincipal() p: Principal,
    @Body() dto: CreateTokenDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TokenView & { token: string }> {
    const t = await this.tokens.create(p, dto);
    res.setHeader('Location', `/v1/tokens/${t.id}`);
    res.setHeader('ETag', etagOf(t.version));
    res.setHeader('Cache-Control', 'no-store');
    return t;
  }

  @Get(':id')
  @ApiOperation({ summary: 'One token (without its value)' })
  @ApiOkResponse({ type: TokenViewDto })
  @ApiProblems(404)
  async get(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TokenView> {
    const t = await this.tokens.get(p, id);
    res.setHeader('ETag', etagOf(t.version));
    return t;
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a token (at once here; within 30 s in the other services)' })
  @ApiNoContentResponse({ description: 'revoked (also when it already was)' })
  @ApiProblems(403, 404)
  async revoke(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.tokens.revoke(p, id);
  }
}

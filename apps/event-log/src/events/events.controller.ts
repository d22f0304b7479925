import {
  Body,
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Headers,
  HttpCode,
  Injectable,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CloudEvent } from '@nephele/contracts';
import {
  ApiPage,
  ApiProblems,
  CurrentPrincipal,
  Page,
  Principal,
  ProblemException,
  projectScope,
} from '@nephele/service-kit';
import { CloudEventDto, LoggedEventsDto, NewCloudEventDto } from './dto/event-responses.dto';
import { LogEventsPipe, MAX_BATCH } from './dto/log-events.pipe';
import { QueryEventsDto } from './dto/query-events.dto';
import { EventsService } from './events.service';
import { EventsStream } from './events.stream';

/**
 * Nephele's own event types drive its services (alarms scale groups, instance events move state):
 * a project's token must not be able to forge them for another project. A guard, so this 403
 * comes before the body's 400.
 */
@Injectable()
export class OwnEventTypesGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    if (req.principal?.role === 'admin') return true;
    const body: unknown = req.body;
    const items: unknown[] = Array.isArray(body) ? body : [body];
    const own = items.findIndex((e) =>
      /^nephele\./.test(String((e as { type?: unknown } | null)?.type ?? '')),
    );
    if (own >= 0)
      throw new ProblemException(403, 'only admin tokens may log events of Nephele’s own types (nephele.*)', {
        errors: [
          { field: `${Array.isArray(body) ? `[${own}].` : ''}type`, message: 'use a type of your own' },
        ],
      });
    return true;
  }
}

@ApiTags('events')
@ApiBearerAuth()
@ApiProblems(400, 401)
@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly stream: EventsStream,
  ) {}

  @Post()
  @HttpCode(202)
  @UseGuards(OwnEventTypesGuard)
  @ApiOperation({ summary: 'Log one CloudEvent or a batch (JSON array) into the event stream' })
  @ApiExtraModels(NewCloudEventDto)
  @ApiBody({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(NewCloudEventDto) },
        { type: 'array', items: { $ref: getSchemaPath(NewCloudEventDto) }, maxItems: MAX_BATCH },
      ],
    },
  })
  @ApiAcceptedResponse({ type: LoggedEventsDto })
  @ApiProblems(403, 413)
  log(
    @Body(LogEventsPipe) events: CloudEvent[],
    @CurrentPrincipal() p: Principal,
  ): Promise<{ accepted: number; ids: string[] }> {
    // A project's token logs into its own project (whatever the events claim).
    return this.events.log(events, projectScope(p));
  }

  @Get()
  @ApiOperation({ summary: 'Query stored events (keyset pagination)' })
  @ApiPage(CloudEventDto)
  query(@Query() q: QueryEventsDto, @CurrentPrincipal() p: Principal): Promise<Page<CloudEvent>> {
    return this.events.query(q, projectScope(p));
  }

  @Get('stream')
  @ApiOperation({ summary: 'Server-Sent Events with the same filters; Last-Event-ID resumes' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'one `id:`/`data:` record per event (data: the CloudEvent as JSON), comments as keep-alives',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  async sse(
    @Query() q: QueryEventsDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
    @CurrentPrincipal() p: Principal,
  ): Promise<void> {
    await this.stream.serve(
      q,
      lastEventId ?? (req.query.lastEventId as string | undefined),
      req,
      res,
      projectScope(p),
      p.tokenId,
    );
  }

  @Get(':id')
  @ApiOperation({ summary: 'One stored event by its CloudEvent id' })
  @ApiOkResponse({ type: CloudEventDto })
  @ApiProblems(404)
  get(@Param('id') id: string, @CurrentPrincipal() p: Principal): Promise<CloudEvent> {
    return this.events.get(id, projectScope(p));
  }
}

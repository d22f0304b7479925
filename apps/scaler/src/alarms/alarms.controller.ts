import {
  Body,
  CanActivate,
  Controller,
  ExecutionContext,
  HttpCode,
  Inject,
  Injectable,
  Post,
  UseGuards,
} from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiProblems, ProblemException, Public, safeEqual } from '@nephele/service-kit';
import { ScalerConfig } from '../config/env';
import { SCALER_CONFIG } from '../scaler.tokens';
import { AlertmanagerDto, AlertmanagerResultView } from './dto/alertmanager.dto';
import { AlarmExecution, AlarmsService } from './alarms.service';

/**
 * Alertmanager authenticates with `http_config.authorization` (Bearer SCALER_ALERTMANAGER_TOKEN):
 * 503 while no token is configured, 401 for a wrong one; a guard, so both come before the body's 400.
 */
@Injectable()
export class AlertmanagerTokenGuard implements CanActivate {
  constructor(@Inject(SCALER_CONFIG) private readonly config: ScalerConfig) {}

  canActivate(ctx: ExecutionContext): boolean {
    const token = this.config.alertmanagerToken;
    if (!token)
      throw new ProblemException(
        503,
        'the Alertmanager receiver is disabled (SCALER_ALERTMANAGER_TOKEN is not set)',
      );
    const authorization = ctx.switchToHttp().getRequest<Request>().headers.authorization;
    const m = typeof authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!m || !safeEqual(m[1]!, token)) throw new ProblemException(401, 'missing or invalid bearer token');
    return true;
  }
}

@ApiTags('alarms')
@Controller('v1/alarms')
export class AlarmsController {
  constructor(private readonly alarms: AlarmsService) {}

  @Public()
  @Post('alertmanager')
  @HttpCode(200)
  @UseGuards(AlertmanagerTokenGuard)
  @ApiOperation({ summary: 'Prometheus Alertmanager webhook receiver (version 4 payload)' })
  @ApiBody({ type: AlertmanagerDto })
  @ApiOkResponse({ type: AlertmanagerResultView })
  @ApiProblems(400, 401, 503)
  async alertmanager(@Body() body: AlertmanagerDto) {
    let duplicates = 0;
    const executions: AlarmExecution[] = [];
    const firing = body.alerts.filter((a) => a.status === 'firing');
    for (const a of firing) {
      const r = await this.alarms.fromAlertmanager(a);
      if (r === undefined) duplicates++;
      else executions.push(...r);
    }
    return { received: body.alerts.length, firing: firing.length, duplicates, executions };
  }
}

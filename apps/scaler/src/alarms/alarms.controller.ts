import { Body, Controller, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FieldError } from '@nephele/contracts';
import { isRfc3339 } from '@nephele/util';
import { ApiProblems, ProblemException, Public, safeEqual } from '@nephele/service-kit';
import { ScalerConfig } from '../config/env';
import { SCALER_CONFIG } from '../scaler.tokens';
import { AlertmanagerDto, AlertmanagerResultView } from './dto/alertmanager.dto';
import { AlarmExecution, AlarmsService, AlertmanagerAlert } from './alarms.service';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringMap = (v: unknown): v is Record<string, string> =>
  isObject(v) && Object.values(v).every((x) => typeof x === 'string');

/**
 * Checks an Alertmanager webhook body (version 4: receiver, status, alerts[{status, labels,
 * annotations, startsAt, endsAt, generatorURL, fingerprint}], groupLabels, commonLabels,
 * commonAnnotations, externalURL, groupKey, truncatedAlerts). Fields the scaler does not use are
 * not checked beyond their type, so newer Alertmanagers keep working.
 */
export function parseAlertmanagerBody(body: unknown): AlertmanagerAlert[] {
  const errors: FieldError[] = [];
  if (!isObject(body))
    throw ProblemException.badRequest('validation failed', [{ field: 'body', message: 'must be an object' }]);
  if (body.version !== '4')
    errors.push({ field: 'version', message: 'only version "4" of the webhook payload is understood' });
  if (body.status !== 'firing' && body.status !== 'resolved') {
    errors.push({ field: 'status', message: 'must be firing or resolved' });
  }
  for (const k of ['groupLabels', 'commonLabels', 'commonAnnotations'] as const) {
    if (body[k] !== undefined && !isStringMap(body[k]))
      errors.push({ field: k, message: 'must map names to strings' });
  }
  const alerts: AlertmanagerAlert[] = [];
  if (!Array.isArray(body.alerts) || body.alerts.length > 1000) {
    errors.push({ field: 'alerts', message: 'must be an array of at most 1000 alerts' });
  } else {
    body.alerts.forEach((a: unknown, i) => {
      const f = (n: string) => `alerts[${i}]${n ? `.${n}` : ''}`;
      if (!isObject(a)) return errors.push({ field: f(''), message: 'must be an object' });
      if (a.status !== 'firing' && a.status !== 'resolved')
        errors.push({ field: f('status'), message: 'must be firing or resolved' });
      if (!isStringMap(a.labels))
        errors.push({ field: f('labels'), message: 'must map label names to strings' });
      if (a.annotations !== undefined && !isStringMap(a.annotations)) {
        errors.push({ field: f('annotations'), message: 'must map names to strings' });
      }
      if (!isRfc3339(a.startsAt)) errors.push({ field: f('startsAt'), message: 'must be an RFC 3339 time' });
      if (a.fingerprint !== undefined && (typeof a.fingerprint !== 'string' || a.fingerprint.length > 128)) {
        errors.push({ field: f('fingerprint'), message: 'must be a string of at most 128 characters' });
      }
      alerts.push(a as unknown as AlertmanagerAlert);
    });
  }
  if (errors.length) throw ProblemException.badRequest('validation failed', errors);
  return alerts;
}

@ApiTags('alarms')
@Controller('v1/alarms')
export class AlarmsController {
  constructor(
    private readonly alarms: AlarmsService,
    @Inject(SCALER_CONFIG) private readonly config: ScalerConfig,
  ) {}

  /** Alertmanager authenticates with `http_config.authorization` (Bearer SCALER_ALERTMANAGER_TOKEN). */
  @Public()
  @Post('alertmanager')
  @HttpCode(200)
  @ApiOperation({ summary: 'Prometheus Alertmanager webhook receiver (version 4 payload)' })
  @ApiBody({ type: AlertmanagerDto })
  @ApiOkResponse({ type: AlertmanagerResultView })
  @ApiProblems(400, 401, 503)
  async alertmanager(@Body() body: unknown, @Headers('authorization') authorization: string | undefined) {
    const token = this.config.alertmanagerToken;
    if (!token)
      throw new ProblemException(
        503,
        'the Alertmanager receiver is disabled (SCALER_ALERTMANAGER_TOKEN is not set)',
      );
    const m = typeof authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!m || !safeEqual(m[1]!, token)) throw new ProblemException(401, 'missing or invalid bearer token');
    const alerts = parseAlertmanagerBody(body);
    let duplicates = 0;
    const executions: AlarmExecution[] = [];
    const firing = alerts.filter((a) => a.status === 'firing');
    for (const a of firing) {
      const r = await this.alarms.fromAlertmanager(a);
      if (r === undefined) duplicates++;
      else executions.push(...r);
    }
    return { received: alerts.length, firing: firing.length, duplicates, executions };
  }
}

import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { EdgeConnection, EdgeMessage, EdgeReply, EdgeSubscription, LoggerLike } from '@nephele/bus';
import { EdgeAddresses } from '@nephele/contracts';
import { AppLogger } from '@nephele/observability';
import { LOGGER, ProblemException } from '@nephele/service-kit';
import { CpeConfig } from '../config/env';
import { CPE_CONFIG, CPE_EDGE } from '../cpe.tokens';
import { DeployableFormat } from '../deployables/deployable-parser';
import { Actor, DeployablesService } from '../deployables/deployables.service';

const OPCODE = 'qmf.opcode';

class QmfError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

// Note [Management interface]
// QMF-style request/reply on the AMQP 1.0 address `nephele.cpe` (ARCHITECTURE §5): a request has
// application property qmf.opcode = _method_request and a map body {_method_name, _arguments}; the
// reply goes to reply-to with the same correlation-id, qmf.opcode = _method_response and body
// {_arguments: {...}}, or qmf.opcode = _exception and body {_values: {error_code, error_text}}.
// error_code follows HTTP: 400 bad arguments, 404 unknown deployable, 409 conflict, 500 a bug.
// A request without reply-to cannot be answered: the edge rejects the delivery with that reason.
// Management clients act as admins of CPE_DEFAULT_PROJECT unless they name `project`.
@Injectable()
export class ManagementService implements OnApplicationBootstrap, OnApplicationShutdown {
  private sub?: EdgeSubscription;
  private readonly log: LoggerLike;

  constructor(
    private readonly deployables: DeployablesService,
    @Inject(CPE_CONFIG) private readonly config: CpeConfig,
    @Inject(LOGGER) log: AppLogger,
    @Optional() @Inject(CPE_EDGE) private readonly edge?: EdgeConnection,
  ) {
    this.log = log;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.edge) return;
    this.sub = await this.edge.serve(EdgeAddresses.cpe, (m) => this.handle(m));
    this.log.info({ address: EdgeAddresses.cpe, mode: this.edge.mode }, 'management interface ready');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sub?.close().catch(() => undefined);
  }

  async handle(m: EdgeMessage): Promise<EdgeReply> {
    try {
      const result = await this.dispatch(m);
      return {
        body: { _arguments: result },
        applicationProperties: { [OPCODE]: '_method_response' },
        format: 'amqp',
      };
    } catch (e) {
      const code = e instanceof QmfError ? e.code : e instanceof ProblemException ? e.getStatus() : 500;
      let text = (e as Error).message;
      if (e instanceof ProblemException) {
        const body = e.getResponse() as { detail?: string; errors?: { field: string; message: string }[] };
        text = [body.detail, ...(body.errors ?? []).map((x) => `${x.field}: ${x.message}`)]
          .filter(Boolean)
          .join('; ');
      }
      if (code >= 500)
        this.log.error({ err: (e as Error).message, stack: (e as Error).stack }, 'management request failed');
      return {
        body: { _values: { error_code: code, error_text: text } },
        applicationProperties: { [OPCODE]: '_exception' },
        format: 'amqp',
      };
    }
  }

  private async dispatch(m: EdgeMessage): Promise<Record<string, unknown>> {
    if (m.applicationProperties[OPCODE] !== '_method_request')
      throw new QmfError(400, 'qmf.opcode must be _method_request');
    const body = m.body as { _method_name?: unknown; _arguments?: unknown } | null;
    if (!body || typeof body !== 'object' || typeof body._method_name !== 'string') {
      throw new QmfError(400, 'the body must be a map {_method_name, _arguments}');
    }
    const args = (body._arguments ?? {}) as Record<string, unknown>;
    if (typeof args !== 'object' || Array.isArray(args)) throw new QmfError(400, '_arguments must be a map');
    const project = typeof args.project === 'string' ? args.project : this.config.defaultProject;
    const actor: Actor = { id: `amqp:${m.principal ?? m.userId ?? 'management'}`, admin: true, project };
    const ref = () => {
      const r = args.uuid ?? args.name;
      if (typeof r !== 'string' || !r) throw new QmfError(400, 'give uuid or name');
      return r;
    };
    const config = () => {
      const c = args.config;
      if (typeof c === 'string') return { source: c, input: c as string | object };
      if (c && typeof c === 'object') return { source: JSON.stringify(c), input: c };
      throw new QmfError(400, 'config (the deployable document) is required');
    };
    const formatOf = (input: string | object): DeployableFormat => {
      const f = args.format;
      if (f === undefined)
        return typeof input === 'string'
          ? input.trimStart().startsWith('<')
            ? 'xml'
            : input.trimStart().startsWith('{')
              ? 'json'
              : 'yaml'
          : 'json';
      if (f !== 'xml' && f !== 'yaml' && f !== 'json')
        throw new QmfError(400, 'format must be xml, yaml or json');
      return f;
    };
    switch (body._method_name) {
      case 'deployable_create': {
        const { source, input } = config();
        const format = formatOf(input);
        const doc = this.deployables.parse(input, format);
        const v = await this.deployables.create(source, format, doc, actor);
        return { uuid: v.id, name: v.name };
      }
      case 'deployable_update': {
        const { source, input } = config();
        const format = formatOf(input);
        const doc = this.deployables.parse(input, format);
        const v = await this.deployables.update(ref(), source, format, doc, actor);
        return { uuid: v.id, version: v.version };
      }
      case 'deployable_destroy':
        await this.deployables.destroy(ref(), actor);
        return {};
      case 'deployable_start':
        await this.deployables.start(ref(), actor);
        return {};
      case 'deployable_stop':
        await this.deployables.stop(ref(), actor);
        return {};
      case 'deployable_status':
        return { ...(await this.deployables.qmfStatus(ref(), actor)) };
      case 'deployable_list': {
        const all: { uuid: string; name: string; status: string }[] = [];
        let after: string | undefined;
        for (;;) {
          const r = await this.deployables.list(actor, after, 1000);
          all.push(...r.rows.map((x) => ({ uuid: x.id, name: x.name, status: x.status })));
          if (!r.more) break;
          after = r.rows[r.rows.length - 1]!.id;
        }
        return { deployables: all };
      }
      default:
        throw new QmfError(400, `unknown method ${body._method_name}`);
    }
  }
}

import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { Bus, EdgeConnection, EdgeMessage, EdgeReply, EdgeSubscription, LoggerLike } from '@nephele/bus';
import { createEvent, EdgeAddresses, ProjectResolve } from '@nephele/contracts';
import { AppLogger } from '@nephele/observability';
import {
  BUS,
  LOGGER,
  Principal,
  ProblemException,
  TOKEN_VERIFIER,
  TokenVerifier,
} from '@nephele/service-kit';
import { CpeConfig } from '../config/env';
import { CPE_CONFIG, CPE_EDGE } from '../cpe.tokens';
import { DeployableFormat } from '../deployables/deployable-parser';
import { Actor, DeployablesService } from '../deployables/deployables.service';

const OPCODE = 'qmf.opcode';
/** Application property carrying `Bearer <token>` when the edge did not authenticate the caller. */
export const AUTHORIZATION_PROPERTY = 'authorization';
const READ_METHODS = new Set(['deployable_status', 'deployable_list']);

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
// Who asks decides what it may do (ARCHITECTURE §1 "Edge authentication"): in listen mode the
// listener authenticated the peer with its API token and stamps its claims on the request (and has
// re-checked the token before routing it); through RabbitMQ — or from an in-process sender — the
// request carries the token in application property `authorization` ("Bearer <token>"), verified
// here on every request. A member or viewer acts in its own project only (`project` must be absent
// or its own), a viewer only reads (deployable_status, deployable_list), only an admin names
// another project, which must exist; an admin naming none acts in CPE_DEFAULT_PROJECT.
// Refusals: 401 no or bad credential, 403 not allowed, 404 no such project.
@Injectable()
export class ManagementService implements OnApplicationBootstrap, OnApplicationShutdown {
  private sub?: EdgeSubscription;
  private readonly log: LoggerLike;

  constructor(
    private readonly deployables: DeployablesService,
    @Inject(CPE_CONFIG) private readonly config: CpeConfig,
    @Inject(LOGGER) log: AppLogger,
    @Inject(TOKEN_VERIFIER) private readonly tokens: TokenVerifier,
    @Inject(BUS) private readonly bus: Bus,
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

  /** Who is asking (see Note [Management interface]); throws a QmfError when it may not. */
  private async caller(m: EdgeMessage): Promise<Principal> {
    const c = m.claims;
    if (this.edge?.mode === 'listen' && c?.tokenId && c.role) {
      return { tokenId: c.tokenId, role: c.role, ...(c.project ? { project: c.project } : {}) };
    }
    const header = m.applicationProperties[AUTHORIZATION_PROPERTY];
    const bearer = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!bearer)
      throw new QmfError(
        401,
        `authentication required: log in with SASL PLAIN (password = an API token) or set application property ${AUTHORIZATION_PROPERTY} = "Bearer <token>"`,
      );
    let p: Principal | null;
    try {
      p = await this.tokens.verify(bearer[1]!);
    } catch {
      throw new QmfError(503, 'the token service is not reachable; try again');
    }
    if (!p) throw new QmfError(401, 'invalid or revoked token');
    return p;
  }

  private async actorOf(p: Principal, method: string, project: unknown): Promise<Actor> {
    if (project !== undefined && (typeof project !== 'string' || !project))
      throw new QmfError(400, 'project must be a project id or name');
    if (p.role === 'viewer' && !READ_METHODS.has(method))
      throw new QmfError(
        403,
        `a viewer token cannot call ${method} (read only: deployable_status, deployable_list)`,
      );
    if (p.role !== 'admin') {
      if (project !== undefined && project !== p.project)
        throw new QmfError(
          403,
          `a ${p.role} token acts in its own project only; only an admin names a project`,
        );
      return { id: p.tokenId, admin: false, project: p.project };
    }
    if (project === undefined) return { id: p.tokenId, admin: true, project: this.config.defaultProject };
    const found = await this.bus
      .request<{ id: string; name: string } | null>(
        createEvent('cloud-policy-engine', ProjectResolve.type, { project: project as string }),
        { timeoutMs: 5000 },
      )
      .catch(() => {
        throw new QmfError(503, 'the project service is not reachable; try again');
      });
    if (!found) throw new QmfError(404, `no such project: ${String(project).slice(0, 200)}`);
    return { id: p.tokenId, admin: true, project: found.id };
  }

  private async dispatch(m: EdgeMessage): Promise<Record<string, unknown>> {
    const principal = await this.caller(m);
    if (m.applicationProperties[OPCODE] !== '_method_request')
      throw new QmfError(400, 'qmf.opcode must be _method_request');
    const body = m.body as { _method_name?: unknown; _arguments?: unknown } | null;
    if (!body || typeof body !== 'object' || typeof body._method_name !== 'string') {
      throw new QmfError(400, 'the body must be a map {_method_name, _arguments}');
    }
    const args = (body._arguments ?? {}) as Record<string, unknown>;
    if (typeof args !== 'object' || Array.isArray(args)) throw new QmfError(400, '_arguments must be a map');
    const actor = await this.actorOf(principal, body._method_name, args.project);
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

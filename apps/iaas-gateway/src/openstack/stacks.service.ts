import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Bus, LoggerLike } from '@nephele/bus';
import { ApplianceResolve, createEvent } from '@nephele/contracts';
import { PoolConfig } from '@nephele/broker';
import {
  bindParameters,
  evaluate,
  groupMember,
  HotContext,
  HotResource,
  HotTemplate,
  readHot,
  resourceOrder,
  validateHot,
} from '@nephele/hot';
import { AppLogger } from '@nephele/observability';
import { BUS, LOGGER, Principal } from '@nephele/service-kit';
import { sleep } from '@nephele/util';
import { BrokerConfigService } from '../config-cache/broker-config.service';
import { SERVICE } from '../gateway.tokens';
import { findFlavor, ServersService, ServerView } from './servers.service';
import { OsError } from './openstack.errors';
import { APPLIANCE_URL, StackCreateDto, StackValidateDto } from './dto/openstack.dto';
import {
  OpenStackRepository,
  StackEvent,
  StackOutput,
  StackResourceState,
  StackRow,
} from './openstack.repository';

/** How long a stack's servers may take to become ACTIVE before the stack fails. */
const SERVER_TIMEOUT_MS = 300_000;
const POLL_MS = 500;

// Note [Stacks]
// A stack is a cluster of servers made from a HOT template (libs/hot validates and evaluates it).
// Create validates everything that can be known up front (the template against the served subset,
// the parameters against their types and constraints, custom constraints against the pool), stores
// the stack as CREATE_IN_PROGRESS and answers 201; a background run then creates the resources in
// dependency order, each server through the same launch path as every instance (owner
// `stack:<id>`), waiting for each to be ACTIVE so later resources and the outputs can read its
// attributes. The run ends CREATE_COMPLETE with the outputs evaluated, or CREATE_FAILED with the
// reason. Every status change is also a Heat event (the CLI's `--wait` follows events). Delete
// destroys the stack's servers and ends DELETE_COMPLETE once the tracker saw them go. A gateway that
// stops mid-create leaves CREATE_IN_PROGRESS rows: at start they fail ("interrupted"), and
// unfinished deletes are resumed.
/** `get_attr` of an OS::Nova::Server (a path into its attributes), from the server's view. */
function serverAttribute(v: ServerView, path: (string | number)[]): unknown {
  const addresses = {
    nephele: v.addresses.map((addr) => ({
      addr,
      version: addr.includes(':') ? 6 : 4,
      'OS-EXT-IPS:type': 'fixed',
    })),
  };
  const attrs: Record<string, unknown> = {
    first_address: v.addresses[0] ?? '',
    addresses,
    networks: { nephele: v.addresses },
    name: v.name,
    accessIPv4: v.addresses.find((a) => !a.includes(':')) ?? '',
    accessIPv6: v.addresses.find((a) => a.includes(':')) ?? '',
    show: {
      id: v.id,
      name: v.name,
      status: v.status,
      addresses,
      metadata: v.metadata,
      image: { id: v.image },
      flavor: { id: v.flavor },
      created: v.created,
    },
  };
  let cur: unknown = attrs[String(path[0])];
  for (const k of path.slice(1))
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[String(k)] : undefined;
  return cur;
}

/** What the template's intrinsic functions see while the stack is created. */
function hotContext(
  s: StackRow,
  resources: StackRow['resources'],
  configs: Map<string, { id: string; config: string }>,
  serverAttr: (instanceId: string, path: (string | number)[]) => unknown,
): HotContext {
  return {
    params: s.parameters,
    pseudo: { 'OS::stack_name': s.name, 'OS::stack_id': s.id, 'OS::project_id': s.project },
    ref: (n) => {
      const r = resources[n];
      if (r?.type === 'OS::Heat::SoftwareConfig') return configs.get(n)?.id;
      if (r?.type === 'OS::Heat::ResourceGroup') return r.instances ? `${s.id}-${n}` : undefined;
      return r?.instances?.[0];
    },
    attr: (n, path) => {
      const r = resources[n];
      if (!r) return undefined;
      if (r.type === 'OS::Heat::SoftwareConfig')
        return path[0] === 'config' ? configs.get(n)?.config : undefined;
      if (r.type === 'OS::Heat::ResourceGroup') {
        const members = r.instances ?? [];
        if (path[0] === 'refs') return path.length > 1 ? members[Number(path[1])] : members;
        const m = /^resource\.(\d+)$/.exec(String(path[0]));
        if (m) return members[Number(m[1])] ? serverAttr(members[Number(m[1])]!, path.slice(1)) : undefined;
        return members.map((i) => serverAttr(i, path));
      }
      return r.instances?.[0] ? serverAttr(r.instances[0], path) : undefined;
    },
  };
}

/** The template's outputs, evaluated; one that fails carries its error. */
function stackOutputs(t: HotTemplate, ctx: HotContext): StackOutput[] {
  return Object.entries(t.outputs ?? {}).map(([k, o]): StackOutput => {
    try {
      return {
        output_key: k,
        output_value: evaluate(o.value, ctx) ?? null,
        description: o.description ?? 'No description given',
      };
    } catch (e) {
      return {
        output_key: k,
        output_value: null,
        description: o.description ?? 'No description given',
        output_error: (e as Error).message,
      };
    }
  });
}

/** A server's user data (a SoftwareConfig's text when it names one) and metadata as strings. */
function serverInputs(
  props: Record<string, unknown>,
  configs: Map<string, { id: string; config: string }>,
): { userData: string | undefined; metadata: Record<string, string> } {
  let userData = props.user_data;
  const fromConfig = [...configs.values()].find((c) => c.id === userData);
  if (fromConfig) userData = fromConfig.config;
  if (userData !== undefined && typeof userData !== 'string') userData = JSON.stringify(userData);
  const metadata = Object.fromEntries(
    Object.entries((props.metadata ?? {}) as Record<string, unknown>).map(([k, v]) => [
      k,
      typeof v === 'string' ? v : JSON.stringify(v),
    ]),
  );
  return { userData: userData as string | undefined, metadata };
}

/** The servers a resource stands for: itself, or an OS::Heat::ResourceGroup's `count` members. */
function serverMembers(name: string, def: HotResource, ctx: HotContext): HotResource[] {
  if (def.type !== 'OS::Heat::ResourceGroup') return [def];
  const count = Number(evaluate(def.properties?.count ?? 1, ctx));
  if (!Number.isInteger(count) || count < 0 || count > 100)
    throw new Error(`${name}: count must be an integer from 0 to 100`);
  const indexVar = String(evaluate(def.properties?.index_var ?? '%index%', ctx));
  return Array.from({ length: count }, (_, i) =>
    groupMember(def.properties!.resource_def as HotResource, i, indexVar),
  );
}

/** An OS::Heat::SoftwareConfig: its text (evaluated) under a fresh id servers can name. */
function softwareConfig(def: HotResource, ctx: HotContext): { id: string; config: string } {
  const config = evaluate(def.properties?.config ?? '', ctx);
  return { id: randomUUID(), config: typeof config === 'string' ? config : JSON.stringify(config) };
}

@Injectable()
export class StacksService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log: LoggerLike;
  private readonly running = new Map<string, Promise<void>>();
  private readonly cancelled = new Set<string>();
  private stopping = false;

  constructor(
    private readonly repo: OpenStackRepository,
    private readonly servers: ServersService,
    private readonly brokerConfig: BrokerConfigService,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(LOGGER) log: AppLogger,
  ) {
    this.log = log;
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const s of await this.repo.unfinishedStacks()) {
      if (s.status === 'CREATE_IN_PROGRESS') {
        const reason = 'Stack CREATE interrupted: the gateway restarted while creating it';
        await this.repo.updateStack(s.id, {
          status: 'CREATE_FAILED',
          status_reason: reason,
          events: [this.event(s, s.name, s.id, 'CREATE_FAILED', reason)],
        });
      } else this.spawn(s.id, () => this.runDelete(s.id, { tokenId: 'iaas-gateway', role: 'admin' }));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.running.values()]);
  }

  private spawn(id: string, fn: () => Promise<void>): void {
    const p = fn()
      .catch((e: Error) => this.log.error({ stack: id, err: e.message }, 'stack run failed'))
      .finally(() => this.running.delete(id));
    this.running.set(id, p);
  }

  private event(
    s: Pick<StackRow, 'id' | 'name'>,
    resource: string,
    physical: string,
    status: string,
    reason: string,
  ): StackEvent {
    return {
      id: randomUUID(),
      event_time: new Date().toISOString(),
      resource_name: resource,
      logical_resource_id: resource,
      physical_resource_id: physical,
      resource_status: status,
      resource_status_reason: reason,
    };
  }

  /** Checks a template and its values against the subset; throws 400 naming what is wrong. */
  async validate(
    pool: PoolConfig,
    body: StackValidateDto,
  ): Promise<{ template: HotTemplate; values: Record<string, unknown> }> {
    const read = readHot(body.template);
    if (read.error) throw new OsError(400, read.error, 'StackValidationFailed');
    const v = validateHot(read.doc);
    if (!v.template)
      throw new OsError(
        400,
        v.errors.map((e) => `${e.field}: ${e.message}`).join('; '),
        'StackValidationFailed',
      );
    const given: Record<string, unknown> = {};
    const env = body.environment;
    if (env) {
      for (const [k, x] of Object.entries(env))
        if (!['parameters', 'parameter_defaults'].includes(k) && x && Object.keys(x).length)
          throw new OsError(400, `the environment section ${k} is not supported`, 'StackValidationFailed');
      Object.assign(given, env.parameter_defaults ?? {});
      Object.assign(given, env.parameters ?? {});
    }
    Object.assign(given, body.parameters ?? {});
    const snapshot = await this.brokerConfig.get().catch((e: Error) => {
      throw new OsError(503, e.message);
    });
    const keypairs = new Set((await this.repo.keypairs(pool.project)).map((k) => k.name));
    const bound = bindParameters(v.template, given, (c, value) => {
      const ref = String(value);
      if (c === 'nova.flavor' && !findFlavor(snapshot, pool.project, ref))
        return `Error validating value '${ref}': The Flavor ID (${ref}) could not be found.`;
      if (
        c === 'glance.image' &&
        !snapshot.images.some((i) => i.project === pool.project && (i.id === ref || i.name === ref))
      )
        return `Error validating value '${ref}': No images matching {'name': '${ref}'}.`;
      if (c === 'nova.keypair' && !keypairs.has(ref))
        return `Error validating value '${ref}': The Key (${ref}) could not be found.`;
      return undefined;
    });
    if (bound.errors.length)
      throw new OsError(400, bound.errors.map((e) => e.message).join('; '), 'StackValidationFailed');
    return { template: v.template, values: bound.values };
  }

  async create(p: Principal, pool: PoolConfig, body: StackCreateDto): Promise<StackRow> {
    const name = body.stack_name;
    // The DTO allowed only an appliance's URL, and only without a template.
    const m = body.template_url !== undefined ? APPLIANCE_URL.exec(body.template_url) : null;
    if (m) body = { ...body, template: await this.applianceTemplate(pool.project, m[1]!, m[2]) };
    const { template, values } = await this.validate(pool, body);
    const id = randomUUID();
    const resources: Record<string, StackResourceState> = Object.fromEntries(
      Object.entries(template.resources).map(([n, r]) => [n, { type: r.type, status: 'INIT_COMPLETE' }]),
    );
    const row = {
      id,
      project: pool.project,
      pool_id: pool.id,
      name,
      template: template as unknown as Record<string, unknown>,
      parameters: values,
      status: 'CREATE_IN_PROGRESS',
      status_reason: 'Stack CREATE started',
      resources,
    };
    if (!(await this.repo.addStack(row)))
      throw new OsError(409, `The Stack (${name}) already exists.`, 'StackExists');
    await this.repo.updateStack(id, {
      events: [this.event(row, name, id, 'CREATE_IN_PROGRESS', 'Stack CREATE started')],
    });
    this.spawn(id, () => this.runCreate(p, pool, id));
    return (await this.repo.stack(pool.project, id))!;
  }

  /** The HOT template of an appliance implementation (LambdaLink's model: implementations are Heat templates). */
  private async applianceTemplate(
    project: string,
    appliance: string,
    implementation?: string,
  ): Promise<unknown> {
    const r = await this.bus
      .request<{ implementation: { template: string; templateFormat: string } } | null>(
        createEvent(SERVICE, ApplianceResolve.type, { project, appliance, implementation }),
        { timeoutMs: 10_000 },
      )
      .catch((e: Error) => {
        throw new OsError(503, `the appliance registry is not reachable: ${e.message}`);
      });
    if (!r)
      throw new OsError(
        400,
        `no appliance ${appliance}${implementation ? ` with implementation ${implementation}` : ''} in this project`,
      );
    const t = r.implementation.template;
    return r.implementation.templateFormat === 'object' ? (JSON.parse(t) as unknown) : t;
  }

  private async runCreate(p: Principal, pool: PoolConfig, id: string): Promise<void> {
    const s = (await this.repo.stack(pool.project, id))!;
    const t = s.template as unknown as HotTemplate;
    const resources = s.resources;
    const views = new Map<string, ServerView>();
    const configs = new Map<string, { id: string; config: string }>();
    const refresh = async () => {
      for (const r of Object.values(resources))
        for (const i of r.instances ?? []) {
          const v = await this.servers.get(pool, i);
          if (v) views.set(i, v);
        }
    };
    const ctx = hotContext(s, resources, configs, (instanceId, path) => {
      const v = views.get(instanceId);
      return v ? serverAttribute(v, path) : undefined;
    });
    const save = (events: StackEvent[], extra: Partial<StackRow> = {}) =>
      this.repo.updateStack(id, { resources, events, ...extra });
    const fail = async (reason: string) => {
      await save([this.event(s, s.name, id, 'CREATE_FAILED', reason)], {
        status: 'CREATE_FAILED',
        status_reason: reason,
      });
    };
    let current = '';
    try {
      for (const name of resourceOrder(t.resources)) {
        current = name;
        if (this.cancelled.has(id) || this.stopping) return fail('Stack CREATE cancelled');
        const def = t.resources[name]!;
        resources[name] = { ...resources[name]!, status: 'CREATE_IN_PROGRESS' };
        await save([this.event(s, name, '', 'CREATE_IN_PROGRESS', 'state changed')]);
        await refresh();
        if (def.type === 'OS::Heat::SoftwareConfig') {
          const c = softwareConfig(def, ctx);
          configs.set(name, c);
          resources[name] = {
            ...resources[name]!,
            status: 'CREATE_COMPLETE',
            instances: [c.id],
            config: c.config,
          } as StackResourceState;
        } else {
          const members = serverMembers(name, def, ctx);
          const ids: string[] = [];
          for (const [i, m] of members.entries()) {
            const label =
              def.type === 'OS::Heat::ResourceGroup' ? `${s.name}-${name}-${i}` : `${s.name}-${name}`;
            const instance = await this.launchServer(p, pool, id, label, m, ctx, configs);
            ids.push(instance);
            resources[name] = { ...resources[name]!, instances: [...ids] };
            await save([]);
          }
          for (const instance of ids) await this.awaitActive(pool, id, name, instance);
          resources[name] = { ...resources[name]!, status: 'CREATE_COMPLETE', instances: ids };
        }
        await refresh();
        await save([
          this.event(s, name, resources[name]!.instances?.[0] ?? '', 'CREATE_COMPLETE', 'state changed'),
        ]);
      }
      await refresh();
      const outputs = stackOutputs(t, ctx);
      const reason = 'Stack CREATE completed successfully';
      await save([this.event(s, s.name, id, 'CREATE_COMPLETE', reason)], {
        status: 'CREATE_COMPLETE',
        status_reason: reason,
        outputs,
      });
    } catch (e) {
      const why = e instanceof OsError || e instanceof Error ? e.message : String(e);
      if (current && resources[current]) {
        resources[current] = { ...resources[current]!, status: 'CREATE_FAILED', reason: why };
        await save([this.event(s, current, resources[current]!.instances?.[0] ?? '', 'CREATE_FAILED', why)]);
      }
      await fail(`Resource CREATE failed: ${why}`);
    }
  }

  /** One server of the stack, from its (evaluated) resource definition. */
  private async launchServer(
    p: Principal,
    pool: PoolConfig,
    stackId: string,
    label: string,
    m: HotResource,
    ctx: HotContext,
    configs: Map<string, { id: string; config: string }>,
  ): Promise<string> {
    const props = (evaluate(m.properties ?? {}, ctx) ?? {}) as Record<string, unknown>;
    const { userData, metadata } = serverInputs(props, configs);
    const snapshot = await this.brokerConfig.get();
    const serverName = typeof props.name === 'string' && props.name ? props.name : label;
    return this.servers.create(p, {
      pool,
      snapshot,
      name: serverName.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63),
      image: String(props.image),
      flavor: String(props.flavor),
      userData,
      metadata,
      keyName: typeof props.key_name === 'string' ? props.key_name : undefined,
      stackId,
    });
  }

  private async awaitActive(
    pool: PoolConfig,
    stack: string,
    resource: string,
    instance: string,
  ): Promise<void> {
    const deadline = Date.now() + SERVER_TIMEOUT_MS;
    for (;;) {
      const v = await this.servers.get(pool, instance);
      if (v?.status === 'ACTIVE') return;
      if (v?.status === 'ERROR')
        throw new Error(`${resource}: server ${instance} went to ERROR: ${v.fault ?? 'no reason given'}`);
      if (this.cancelled.has(stack) || this.stopping) throw new Error('cancelled');
      if (Date.now() > deadline)
        throw new Error(`${resource}: server ${instance} was not ACTIVE within ${SERVER_TIMEOUT_MS / 1000}s`);
      await sleep(POLL_MS);
    }
  }

  async delete(p: Principal, pool: PoolConfig, s: StackRow): Promise<void> {
    if (s.status === 'DELETE_COMPLETE' || s.deleted_at)
      throw new OsError(404, `The Stack (${s.name}) could not be found.`, 'EntityNotFound');
    const reason = 'Stack DELETE started';
    await this.repo.updateStack(s.id, {
      status: 'DELETE_IN_PROGRESS',
      status_reason: reason,
      events: [this.event(s, s.name, s.id, 'DELETE_IN_PROGRESS', reason)],
    });
    const creating = this.running.get(s.id);
    this.cancelled.add(s.id);
    this.spawn(s.id, async () => {
      await creating;
      this.cancelled.delete(s.id);
      await this.runDelete(s.id, p, pool);
    });
  }

  private async runDelete(id: string, p: Principal, known?: PoolConfig): Promise<void> {
    const s = await this.repo.stackById(id);
    if (!s) return;
    const rows = await this.repo.serversOfStack(id);
    const pool = known ?? (await this.brokerConfig.get()).pools.find((x) => x.id === s.pool_id);
    try {
      if (pool) {
        for (const r of rows.filter((x) => !x.deleted_at))
          await this.servers.act(p, pool, r.instance_id, 'destroy', `stack:${id}`);
        const deadline = Date.now() + 120_000;
        for (const r of rows) {
          while ((await this.servers.get(pool, r.instance_id)) && Date.now() < deadline) await sleep(POLL_MS);
        }
      }
      const reason = 'Stack DELETE completed successfully';
      const resources = Object.fromEntries(
        Object.entries(s.resources).map(([k, r]) => [k, { ...r, status: 'DELETE_COMPLETE' }]),
      );
      await this.repo.updateStack(id, {
        status: 'DELETE_COMPLETE',
        status_reason: reason,
        resources,
        deleted: true,
        events: [this.event(s, s.name, id, 'DELETE_COMPLETE', reason)],
      });
    } catch (e) {
      const reason = `Stack DELETE failed: ${(e as Error).message}`;
      await this.repo.updateStack(id, {
        status: 'DELETE_FAILED',
        status_reason: reason,
        events: [this.event(s, s.name, id, 'DELETE_FAILED', reason)],
      });
    }
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Bus } from '@nephele/bus';
import { ApplianceResolve, createEvent, FieldError } from '@nephele/contracts';
import { SecretBox } from '@nephele/crypto';
import { BUS, ProblemException } from '@nephele/service-kit';
import { CpeConfig } from '../config/env';
import { CPE_CONFIG, SERVICE } from '../cpe.tokens';
import { Actor, DeployablesService, DeployableView } from '../deployables/deployables.service';
import { ClusterRow, ClustersRepository } from './clusters.repository';
import { CreateClusterDto } from './dto/cluster.dto';
import {
  bindParameters,
  readTemplate,
  renderOutput,
  renderTemplate,
  TemplateOutput,
  TemplateParameter,
} from './template.util';

interface Resolved {
  appliance: { id: string; name: string; project: string };
  implementation: {
    id: string;
    providerId: string;
    templateVersion: string;
    templateFormat: string;
    template: string;
    parameters: TemplateParameter[];
    outputs: TemplateOutput[];
  };
}

export interface ClusterView {
  id: string;
  name: string;
  project: string;
  appliance: { id: string; name: string; implementation: string; templateVersion: string };
  parameters: Record<string, unknown>;
  users: string[];
  deployableId: string | null;
  status: string;
  reason: string | null;
  outputs: {
    assemblies: { name: string; state: string; addresses: string[] }[];
    values: Record<string, string | null>;
  };
  createdAt: string;
}

// Note [Clusters]
// A cluster is an appliance instantiated: the CPE asks the config-api (bus request) for the
// appliance's implementation, binds the caller's parameters to the declared ones, renders the
// template into a deployable document and creates that deployable; the cluster keeps the link. Its
// outputs are the assemblies' addresses and the template's declared output expressions, evaluated
// against the deployable's live state. Cluster users' passwords are sealed under the master key
// (envelope encryption, as provider credentials) and never returned.
@Injectable()
export class ClustersService {
  constructor(
    private readonly repo: ClustersRepository,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CPE_CONFIG) private readonly config: CpeConfig,
    private readonly deployables: DeployablesService,
  ) {}

  private projectOf(actor: Actor): string {
    const p = actor.project ?? (actor.admin ? this.config.defaultProject : undefined);
    if (!p)
      throw ProblemException.badRequest('no project', [
        { field: 'project', message: 'an admin token must say which project (?project=<id>)' },
      ]);
    return p;
  }

  /** The project an actor sees clusters in: null = every project (an admin without one). */
  private scopeOf(actor: Actor): string | null {
    return actor.admin ? (actor.project ?? null) : (actor.project ?? '');
  }

  async create(dto: CreateClusterDto, actor: Actor): Promise<ClusterView> {
    const project = this.projectOf(actor);
    const resolved = await this.resolve(project, dto);
    const impl = resolved.implementation;
    const bound = bindParameters(impl.parameters ?? [], dto.parameters ?? {});
    if (bound.errors.length) throw ProblemException.badRequest('invalid parameters', bound.errors);
    const doc = this.deployables.parse(this.documentOf(resolved, bound.values, dto));
    const id = randomUUID();
    const inserted = await this.repo.insert({
      id,
      project,
      name: dto.name,
      appliance_id: resolved.appliance.id,
      appliance_name: resolved.appliance.name,
      implementation_id: impl.id,
      template_version: impl.templateVersion,
      parameters: bound.values,
      outputs: impl.outputs ?? [],
      credentials: this.sealUsers(id, dto),
    });
    if (!inserted)
      throw ProblemException.conflict(`a cluster named ${dto.name} already exists in this project`);
    try {
      const d = await this.deployables.create(JSON.stringify(doc), 'json', doc, { ...actor, project });
      await this.repo.setDeployable(id, d.id);
    } catch (e) {
      await this.repo.delete(id);
      throw e;
    }
    return this.get(id, { ...actor, project });
  }

  /** The appliance's implementation, from the appliance registry (config-api) over the bus. */
  private async resolve(project: string, dto: CreateClusterDto): Promise<Resolved> {
    const resolved = await this.bus
      .request<Resolved | null>(
        createEvent(SERVICE, ApplianceResolve.type, {
          project,
          appliance: dto.appliance,
          implementation: dto.implementation,
        }),
        { timeoutMs: 10_000 },
      )
      .catch((e: Error) => {
        throw new ProblemException(503, `the appliance registry (config-api) is not reachable: ${e.message}`);
      });
    if (resolved) return resolved;
    throw ProblemException.badRequest('unknown appliance', [
      {
        field: dto.implementation ? 'implementation' : 'appliance',
        message: `no appliance ${dto.appliance}${dto.implementation ? ` with implementation ${dto.implementation}` : ' with an implementation'} in this project`,
      },
    ]);
  }

  /** The template rendered with the bound parameters: the deployable document's input. */
  private documentOf(resolved: Resolved, values: Record<string, unknown>, dto: CreateClusterDto): object {
    const impl = resolved.implementation;
    const errors: FieldError[] = [];
    let template: unknown;
    try {
      template = readTemplate(impl.template, impl.templateFormat);
    } catch (e) {
      throw new ProblemException(
        409,
        `the implementation's template cannot be read: ${(e as Error).message}`,
      );
    }
    if (template && typeof template === 'object' && 'heat_template_version' in template)
      throw new ProblemException(
        409,
        `the implementation is a HOT template: make it a stack through the OpenStack API (POST /openstack/{pool}/orchestration/v1/{project}/stacks with template_url nephele:appliances/${resolved.appliance.name}/${impl.id})`,
      );
    const rendered = renderTemplate(template, values, errors) as Record<string, unknown>;
    if (errors.length)
      throw ProblemException.badRequest('the template needs values it was not given', errors);
    if (!rendered || typeof rendered !== 'object')
      throw new ProblemException(409, 'the template is not a deployable document');
    const { apiVersion: _v, kind: _k, ...rest } = rendered;
    return { ...rest, name: dto.name, pool: dto.pool ?? rendered.pool ?? 'default' };
  }

  /** Cluster users' passwords, sealed under the master key (never stored in clear). */
  private sealUsers(id: string, dto: CreateClusterDto): ClusterRow['credentials'] {
    if (!dto.users?.length) return null;
    if (!this.config.masterKey)
      throw new ProblemException(
        503,
        'cluster users need NEPHELE_MASTER_KEY (credentials are stored encrypted)',
      );
    const box = new SecretBox(this.config.masterKey);
    return {
      users: dto.users.map((u) => ({
        username: u.username,
        sealed: box.seal(`${id}:${u.username}`, { password: u.password }),
      })),
    };
  }

  private async row(ref: string, actor: Actor): Promise<ClusterRow> {
    const rows = await this.repo.find(ref, this.scopeOf(actor));
    if (rows.length !== 1) throw ProblemException.notFound(`cluster ${ref}`);
    return rows[0]!;
  }

  private async view(r: ClusterRow, actor: Actor): Promise<ClusterView> {
    let d: DeployableView | undefined;
    if (r.deployable_id)
      d = await this.deployables.get(r.deployable_id, { ...actor, admin: true }).catch(() => undefined);
    const assemblies = ((d?.assemblies ?? []) as { name: string; state: string; addresses?: string[] }[]).map(
      (a) => ({
        name: a.name,
        state: a.state,
        addresses: a.addresses ?? [],
      }),
    );
    const byName = Object.fromEntries(
      assemblies.map((a) => [a.name, { address: a.addresses[0], state: a.state }]),
    );
    return {
      id: r.id,
      name: r.name,
      project: r.project,
      appliance: {
        id: r.appliance_id,
        name: r.appliance_name,
        implementation: r.implementation_id,
        templateVersion: r.template_version,
      },
      parameters: r.parameters,
      users: (r.credentials?.users ?? []).map((u) => u.username),
      deployableId: r.deployable_id,
      status: d?.status ?? 'deleted',
      reason: d?.reason ?? null,
      outputs: {
        assemblies,
        values: Object.fromEntries(
          (r.outputs ?? []).map((o) => [o.name, renderOutput(o.value, r.parameters, byName)]),
        ),
      },
      createdAt: new Date(r.created_at).toISOString(),
    };
  }

  async get(ref: string, actor: Actor): Promise<ClusterView> {
    return this.view(await this.row(ref, actor), actor);
  }

  async list(actor: Actor): Promise<ClusterView[]> {
    const rows = await this.repo.list(this.scopeOf(actor));
    return Promise.all(rows.map((r) => this.view(r, actor)));
  }

  /** Frees every resource: the deployable (DPE, instances, config), then the cluster itself. */
  async delete(ref: string, actor: Actor): Promise<{ id: string; instances: number }> {
    const r = await this.row(ref, actor);
    let instances = 0;
    if (r.deployable_id) {
      const res = await this.deployables
        .destroy(r.deployable_id, { ...actor, admin: true })
        .catch((e: unknown) => {
          if (e instanceof ProblemException && e.getStatus() === 404)
            return { id: r.deployable_id!, instances: 0 };
          throw e;
        });
      instances = res.instances;
    }
    await this.repo.delete(r.id);
    return { id: r.id, instances };
  }
}

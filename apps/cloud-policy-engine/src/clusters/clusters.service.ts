import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Bus } from '@nephele/bus';
import { ApplianceResolve, createEvent, FieldError } from '@nephele/contracts';
import { SecretBox } from '@nephele/crypto';
import { BUS, ProblemException } from '@nephele/service-kit';
import { CpeConfig } from '../config/env';
import { CPE_CONFIG, CPE_DB, SERVICE } from '../cpe.tokens';
import { Actor, DeployablesService, DeployableView } from '../deployables/deployables.service';
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

interface ClusterRow {
  id: string;
  project: string;
  name: string;
  appliance_id: string;
  appliance_name: string;
  implementation_id: string;
  template_version: string;
  deployable_id: string | null;
  parameters: Record<string, unknown>;
  outputs: TemplateOutput[];
  credentials: { users: { username: string; sealed: unknown }[] } | null;
  created_at: Date;
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
    @Inject(CPE_DB) private readonly db: DataSource,
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

  async create(dto: CreateClusterDto, actor: Actor): Promise<ClusterView> {
    const project = this.projectOf(actor);
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
    if (!resolved) {
      throw ProblemException.badRequest('unknown appliance', [
        {
          field: dto.implementation ? 'implementation' : 'appliance',
          message: `no appliance ${dto.appliance}${dto.implementation ? ` with implementation ${dto.implementation}` : ' with an implementation'} in this project`,
        },
      ]);
    }
    const impl = resolved.implementation;
    const bound = bindParameters(impl.parameters ?? [], dto.parameters ?? {});
    if (bound.errors.length) throw ProblemException.badRequest('invalid parameters', bound.errors);
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
    const rendered = renderTemplate(template, bound.values, errors) as Record<string, unknown>;
    if (errors.length)
      throw ProblemException.badRequest('the template needs values it was not given', errors);
    if (!rendered || typeof rendered !== 'object')
      throw new ProblemException(409, 'the template is not a deployable document');
    const docInput = {
      ...rendered,
      apiVersion: undefined,
      kind: undefined,
      name: dto.name,
      pool: dto.pool ?? rendered.pool ?? 'default',
    };
    delete docInput.apiVersion;
    delete docInput.kind;
    const doc = this.deployables.parse(docInput);
    let sealed: ClusterRow['credentials'] = null;
    const id = randomUUID();
    if (dto.users?.length) {
      if (!this.config.masterKey)
        throw new ProblemException(
          503,
          'cluster users need NEPHELE_MASTER_KEY (credentials are stored encrypted)',
        );
      const box = new SecretBox(this.config.masterKey);
      sealed = {
        users: dto.users.map((u) => ({
          username: u.username,
          sealed: box.seal(`${id}:${u.username}`, { password: u.password }),
        })),
      };
    }
    try {
      await this.db.query(
        `INSERT INTO cpe.clusters (id, project, name, appliance_id, appliance_name, implementation_id, template_version, parameters, outputs, credentials)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb,$9::jsonb,$10::jsonb)`,
        [
          id,
          project,
          dto.name,
          resolved.appliance.id,
          resolved.appliance.name,
          impl.id,
          impl.templateVersion,
          JSON.stringify(bound.values),
          JSON.stringify(impl.outputs ?? []),
          sealed ? JSON.stringify(sealed) : null,
        ],
      );
    } catch (e) {
      if ((e as { code?: string }).code === '23505')
        throw ProblemException.conflict(`a cluster named ${dto.name} already exists in this project`);
      throw e;
    }
    try {
      const d = await this.deployables.create(JSON.stringify(doc), 'json', doc, { ...actor, project });
      await this.db.query(`UPDATE cpe.clusters SET deployable_id = $2 WHERE id = $1`, [id, d.id]);
    } catch (e) {
      await this.db.query(`DELETE FROM cpe.clusters WHERE id = $1`, [id]);
      throw e;
    }
    return this.get(id, { ...actor, project });
  }

  private async row(ref: string, actor: Actor): Promise<ClusterRow> {
    const isId = /^[0-9a-f-]{36}$/i.test(ref);
    const rows: ClusterRow[] = await this.db.query(
      `SELECT * FROM cpe.clusters WHERE ${isId ? 'id = $1::uuid' : 'name = $1'} AND ($2::text IS NULL OR project = $2)`,
      [ref, actor.admin ? (actor.project ?? null) : (actor.project ?? '')],
    );
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
    const rows: ClusterRow[] = await this.db.query(
      `SELECT * FROM cpe.clusters WHERE ($1::text IS NULL OR project = $1) ORDER BY created_at LIMIT 1000`,
      [actor.admin ? (actor.project ?? null) : (actor.project ?? '')],
    );
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
    await this.db.query(`DELETE FROM cpe.clusters WHERE id = $1`, [r.id]);
    return { id: r.id, instances };
  }
}

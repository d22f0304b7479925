import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

// A small OpenStack (Keystone v3 + Nova + Glance v2) on a local port, for the openstack driver's
// tests. It keeps servers in memory, checks that every request carries a valid X-Auth-Token and
// the documented body, and answers with the documented shapes. Sources of the shapes:
//   - Identity API v3, "Password authentication with scoped authorization"
//     (https://docs.openstack.org/api-ref/identity/v3/#password-authentication-with-scoped-authorization):
//     POST /v3/auth/tokens {auth: {identity: {methods: ["password"], password: {user: {name,
//     domain: {name|id}, password} | {id, password}}}, scope: {project: {name, domain} | {id}}}}
//     → 201, header X-Subject-Token, body {token: {methods, user, project, roles, catalog:
//     [{type, name, id, endpoints: [{id, interface, region, region_id, url}]}], expires_at,
//     issued_at, audit_ids}}; failures {"error": {code, message, title}}.
//   - Compute API (https://docs.openstack.org/api-ref/compute/ and nova doc/api_samples):
//     POST /servers {server: {name, imageRef, flavorRef, user_data (base64), metadata,
//     availability_zone}} → 202 {server: {id, links, adminPass, security_groups,
//     OS-DCF:diskConfig}} + Location (servers/server-create-req.json, server-create-resp.json);
//     GET /servers/{id} → {server: {id, name, status, addresses: {net: [{addr, version}]},
//     created, updated, flavor: {id, links}, image: {id, links}, metadata, tenant_id, user_id,
//     accessIPv4, accessIPv6, OS-EXT-STS:task_state, OS-EXT-AZ:availability_zone, …}}
//     (servers/server-get-resp.json); GET /servers/detail?changes-since&name&limit&marker →
//     {servers: […], servers_links: [{rel: "next", href}]}; DELETE /servers/{id} → 204;
//     POST /servers/{id}/action {"os-start": null} | {"os-stop": null} | {"reboot": {"type":
//     "SOFT"|"HARD"}} → 202, 409 conflictingRequest in the wrong state;
//     GET /flavors/detail → {flavors: [{id, name, vcpus, ram, disk, links, …}]}
//     (flavors/flavors-detail-resp.json); GET /os-availability-zone → {availabilityZoneInfo:
//     [{zoneName, zoneState: {available}, hosts}]}; faults {"<fault>": {code, message}}
//     (itemNotFound 404, forbidden 403 "Quota exceeded for instances: …", badRequest 400,
//     conflictingRequest 409).
//   - Image API v2 (https://docs.openstack.org/api-ref/image/v2/#list-images, glance
//     api-ref/source/v2/samples/images-list-response.json): GET /v2/images?limit&marker →
//     {images: [{id, name, status, visibility, container_format, disk_format, min_disk,
//     min_ram, created_at, updated_at, self, file, schema, …}], first, schema, next?}.

export interface FakeServer {
  id: string;
  name: string;
  status: string;
  taskState: string | null;
  imageRef: string;
  flavorRef: string;
  az: string;
  metadata: Record<string, string>;
  userData?: string;
  created: string;
  updated: string;
  deleted: boolean;
  address: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

interface InjectedFault {
  method: string;
  path: RegExp;
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface FakeOpenStackOptions {
  username?: string;
  password?: string;
  project?: string;
  domain?: string;
  tokenTtlMs?: number;
  maxServers?: number;
}

const iso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class FakeOpenStack {
  readonly requests: RecordedRequest[] = [];
  readonly servers = new Map<string, FakeServer>();
  /** Valid tokens → expiry (ms). */
  readonly tokens = new Map<string, number>();
  readonly images = [
    { id: '70a599e0-31e7-49b7-b260-868f441e862b', name: 'cirros-0.6', architecture: 'x86_64' },
    { id: '1bea47ed-f6a9-463b-b423-14b9cca9ad27', name: 'debian-12', architecture: 'x86_64' },
    { id: '781b3762-9469-4cec-b58d-3349e5de4e9c', name: 'fedora-40', architecture: 'x86_64' },
  ];
  readonly flavors = [
    { id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1 },
    { id: '2', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 },
    { id: '3', name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 },
  ];
  private faults: InjectedFault[] = [];
  private server!: Server;
  private counter = 0;
  url = '';

  constructor(readonly options: Required<FakeOpenStackOptions>) {}

  static async start(options: FakeOpenStackOptions = {}): Promise<FakeOpenStack> {
    const fake = new FakeOpenStack({
      username: 'nephele',
      password: 's3cret',
      project: 'demo',
      domain: 'Default',
      tokenTtlMs: 3_600_000,
      maxServers: 10,
      ...options,
    });
    fake.server = createServer((req, res) => void fake.handle(req, res));
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  get authUrl(): string {
    return `${this.url}/identity`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next request matching method and path answers `status` with `body` (once). */
  failNext(
    method: string,
    path: RegExp,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    this.faults.push({ method, path, status, body, headers });
  }

  /** Revokes every token issued so far (the next service call gets a 401). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  setStatus(id: string, status: string, taskState: string | null = null): void {
    const s = this.servers.get(id);
    if (!s) throw new Error(`no server ${id}`);
    s.status = status;
    s.taskState = taskState;
    s.updated = iso();
  }

  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  // --- HTTP ---------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return this.send(res, 400, { badRequest: { code: 400, message: 'Malformed request body' } });
      }
    }
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query: url.searchParams, headers: req.headers, body });

    const faultAt = this.faults.findIndex((f) => f.method === method && f.path.test(url.pathname));
    if (faultAt >= 0) {
      const [f] = this.faults.splice(faultAt, 1);
      return this.send(res, f!.status, f!.body, f!.headers);
    }

    if (url.pathname === '/identity/v3/auth/tokens' && method === 'POST') return this.authenticate(body, res);

    const token = req.headers['x-auth-token'];
    const expiry = typeof token === 'string' ? this.tokens.get(token) : undefined;
    if (expiry === undefined || expiry <= Date.now()) {
      return this.send(res, 401, {
        error: {
          code: 401,
          message: 'The request you have made requires authentication.',
          title: 'Unauthorized',
        },
      });
    }

    const compute = /^\/compute\/v2\.1(\/.*)$/.exec(url.pathname);
    if (compute) return this.compute(method, compute[1]!, url.searchParams, body, res);
    if (url.pathname === '/image/v2/images' && method === 'GET')
      return this.listImages(url.searchParams, res);
    return this.send(res, 404, {
      itemNotFound: { code: 404, message: `no route ${method} ${url.pathname}` },
    });
  }

  private send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { ...(text ? { 'Content-Type': 'application/json' } : {}), ...headers });
    res.end(text);
  }

  private authenticate(body: unknown, res: ServerResponse): void {
    const bad = (message: string) =>
      this.send(res, 400, { error: { code: 400, message, title: 'Bad Request' } });
    const auth = (body as { auth?: Record<string, any> } | undefined)?.auth;
    const identity = auth?.['identity'];
    if (!Array.isArray(identity?.methods) || !identity.methods.includes('password'))
      return bad('identity.methods must include password');
    const user = identity.password?.user;
    if (!user || typeof user.password !== 'string') return bad('identity.password.user.password is required');
    if (!user.id && !(user.name && (user.domain?.name || user.domain?.id)))
      return bad('a user needs an id, or a name and a domain');
    const project = auth?.['scope']?.project;
    if (!project || !(project.id || (project.name && (project.domain?.name || project.domain?.id)))) {
      return bad('scope.project needs an id, or a name and a domain');
    }
    const userOk =
      user.name === this.options.username &&
      user.domain?.name === this.options.domain &&
      user.password === this.options.password;
    const projectOk = project.name === this.options.project;
    if (!userOk || !projectOk) {
      return this.send(res, 401, {
        error: {
          code: 401,
          message: 'The request you have made requires authentication.',
          title: 'Unauthorized',
        },
      });
    }
    const token = `gAAAAA${randomUUID().replace(/-/g, '')}`;
    const expires = Date.now() + this.options.tokenTtlMs;
    this.tokens.set(token, expires);
    const endpoint = (service: string, url: string) => [
      { id: randomUUID(), interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url },
      {
        id: randomUUID(),
        interface: 'internal',
        region: 'RegionOne',
        region_id: 'RegionOne',
        url: `http://internal.invalid/${service}`,
      },
      {
        id: randomUUID(),
        interface: 'public',
        region: 'RegionTwo',
        region_id: 'RegionTwo',
        url: `http://region-two.invalid/${service}`,
      },
    ];
    this.send(
      res,
      201,
      {
        token: {
          methods: ['password'],
          user: {
            domain: { id: 'default', name: this.options.domain },
            id: 'u1',
            name: this.options.username,
            password_expires_at: null,
          },
          project: {
            domain: { id: 'default', name: this.options.domain },
            id: 'p1',
            name: this.options.project,
          },
          roles: [{ id: 'r1', name: 'member' }],
          is_domain: false,
          audit_ids: ['3T2dc1CGQxyJsHdDu1xkcw'],
          issued_at: new Date().toISOString(),
          expires_at: new Date(expires).toISOString(),
          catalog: [
            {
              type: 'identity',
              name: 'keystone',
              id: 'svc-identity',
              endpoints: endpoint('identity', `${this.url}/identity/v3`),
            },
            {
              type: 'compute',
              name: 'nova',
              id: 'svc-compute',
              endpoints: endpoint('compute', `${this.url}/compute/v2.1`),
            },
            {
              type: 'image',
              name: 'glance',
              id: 'svc-image',
              endpoints: endpoint('image', `${this.url}/image`),
            },
          ],
        },
      },
      { 'X-Subject-Token': token },
    );
  }

  private serverJson(s: FakeServer): Record<string, unknown> {
    return {
      id: s.id,
      name: s.name,
      status: s.status,
      'OS-EXT-STS:task_state': s.taskState,
      'OS-EXT-STS:vm_state': s.status.toLowerCase(),
      'OS-EXT-AZ:availability_zone': s.az,
      addresses:
        s.status === 'BUILD'
          ? {}
          : { private: [{ addr: s.address, version: 4, 'OS-EXT-IPS:type': 'fixed' }] },
      accessIPv4: '',
      accessIPv6: '',
      created: s.created,
      updated: s.updated,
      flavor: {
        id: s.flavorRef,
        links: [{ href: `${this.url}/compute/flavors/${s.flavorRef}`, rel: 'bookmark' }],
      },
      image: {
        id: s.imageRef,
        links: [{ href: `${this.url}/compute/images/${s.imageRef}`, rel: 'bookmark' }],
      },
      hostId: 'fake-host',
      key_name: null,
      links: [{ href: `${this.url}/compute/v2.1/servers/${s.id}`, rel: 'self' }],
      metadata: s.metadata,
      progress: 0,
      tenant_id: 'p1',
      user_id: 'u1',
    };
  }

  private compute(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    res: ServerResponse,
  ): void {
    const notFound = (id: string) =>
      this.send(res, 404, { itemNotFound: { code: 404, message: `Instance ${id} could not be found.` } });
    const bad = (message: string) => this.send(res, 400, { badRequest: { code: 400, message } });

    if (method === 'GET' && path === '/servers/detail') {
      const since = query.get('changes-since');
      const name = query.get('name');
      const limit = Number(query.get('limit') ?? 1000);
      const marker = query.get('marker');
      let list = [...this.servers.values()].filter((s) =>
        since ? Date.parse(s.updated) >= Date.parse(since) : !s.deleted,
      );
      if (name) list = list.filter((s) => new RegExp(name).test(s.name));
      if (marker) list = list.slice(list.findIndex((s) => s.id === marker) + 1);
      const page = list.slice(0, limit);
      const links =
        list.length > limit
          ? [
              {
                rel: 'next',
                href: `${this.url}/compute/v2.1/servers/detail?limit=${limit}&marker=${page[page.length - 1]!.id}`,
              },
            ]
          : undefined;
      return this.send(res, 200, {
        servers: page.map((s) => this.serverJson(s)),
        ...(links ? { servers_links: links } : {}),
      });
    }

    if (method === 'POST' && path === '/servers') {
      const server = (body as { server?: Record<string, unknown> } | undefined)?.server;
      if (!server || typeof server['name'] !== 'string' || !server['name'])
        return bad("Invalid input for field/attribute server. Value: 'name' is a required property");
      if (typeof server['imageRef'] !== 'string' || !this.images.some((i) => i.id === server['imageRef']))
        return bad('Can not find requested image');
      if (typeof server['flavorRef'] !== 'string' || !this.flavors.some((f) => f.id === server['flavorRef']))
        return bad('Flavor could not be found');
      const metadata = (server['metadata'] ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(metadata)) {
        if (typeof v !== 'string' || k.length > 255 || v.length > 255) return bad(`Invalid metadata ${k}`);
      }
      let userData: string | undefined;
      if (server['user_data'] !== undefined) {
        const ud = server['user_data'];
        if (typeof ud !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(ud) || ud.length % 4 !== 0)
          return bad('User data needs to be valid base 64.');
        userData = Buffer.from(ud, 'base64').toString('utf8');
      }
      const live = [...this.servers.values()].filter((s) => !s.deleted).length;
      if (live >= this.options.maxServers) {
        return this.send(res, 403, {
          forbidden: {
            code: 403,
            message: `Quota exceeded for instances: Requested 1, but already used ${live} of ${this.options.maxServers} instances`,
          },
        });
      }
      const id = randomUUID();
      const n = ++this.counter;
      const now = iso();
      this.servers.set(id, {
        id,
        name: server['name'],
        status: 'BUILD',
        taskState: 'scheduling',
        imageRef: server['imageRef'],
        flavorRef: server['flavorRef'],
        az: typeof server['availability_zone'] === 'string' ? server['availability_zone'] : 'nova',
        metadata: metadata as Record<string, string>,
        userData,
        created: now,
        updated: now,
        deleted: false,
        address: `192.168.0.${n + 2}`,
      });
      return this.send(
        res,
        202,
        {
          server: {
            'OS-DCF:diskConfig': 'AUTO',
            adminPass: '6NpUwoz2QDRN',
            id,
            links: [{ href: `${this.url}/compute/v2.1/servers/${id}`, rel: 'self' }],
            security_groups: [{ name: 'default' }],
          },
        },
        { Location: `${this.url}/compute/v2.1/servers/${id}` },
      );
    }

    const one = /^\/servers\/([^/]+)(\/action)?$/.exec(path);
    if (one) {
      const s = this.servers.get(one[1]!);
      if (!s || s.deleted) return notFound(one[1]!);
      if (!one[2] && method === 'GET') return this.send(res, 200, { server: this.serverJson(s) });
      if (!one[2] && method === 'DELETE') {
        s.deleted = true;
        s.status = 'DELETED';
        s.taskState = null;
        s.updated = iso();
        return this.send(res, 204, undefined);
      }
      if (one[2] && method === 'POST') {
        const action = (body ?? {}) as Record<string, unknown>;
        const keys = Object.keys(action);
        if (keys.length !== 1) return bad('exactly one action per request');
        const conflict = (what: string) =>
          this.send(res, 409, {
            conflictingRequest: {
              code: 409,
              message: `Cannot '${what}' instance ${s.id} while it is in vm_state ${s.status.toLowerCase()}`,
            },
          });
        switch (keys[0]) {
          case 'os-start':
            if (action['os-start'] !== null) return bad('os-start takes null');
            if (s.status !== 'SHUTOFF') return conflict('start');
            this.setStatus(s.id, 'ACTIVE');
            return this.send(res, 202, undefined);
          case 'os-stop':
            if (action['os-stop'] !== null) return bad('os-stop takes null');
            if (s.status !== 'ACTIVE' && s.status !== 'ERROR') return conflict('stop');
            this.setStatus(s.id, 'SHUTOFF');
            return this.send(res, 202, undefined);
          case 'reboot': {
            const type = (action['reboot'] as { type?: string } | null)?.type;
            if (type !== 'SOFT' && type !== 'HARD')
              return bad("Invalid input for field/attribute type. Value: must be 'SOFT' or 'HARD'");
            if (s.status !== 'ACTIVE') return conflict('reboot');
            this.setStatus(
              s.id,
              type === 'SOFT' ? 'REBOOT' : 'HARD_REBOOT',
              type === 'SOFT' ? 'reboot_started' : 'reboot_started_hard',
            );
            return this.send(res, 202, undefined);
          }
          default:
            return bad(`unknown action ${keys[0]}`);
        }
      }
    }

    if (method === 'GET' && path === '/flavors/detail') {
      return this.send(res, 200, {
        flavors: this.flavors.map((f) => ({
          ...f,
          'OS-FLV-DISABLED:disabled': false,
          'OS-FLV-EXT-DATA:ephemeral': 0,
          'os-flavor-access:is_public': true,
          swap: '',
          rxtx_factor: 1.0,
          links: [{ href: `${this.url}/compute/v2.1/flavors/${f.id}`, rel: 'self' }],
        })),
      });
    }
    if (method === 'GET' && path === '/os-availability-zone') {
      return this.send(res, 200, {
        availabilityZoneInfo: [
          { zoneName: 'nova', zoneState: { available: true }, hosts: null },
          { zoneName: 'az-2', zoneState: { available: false }, hosts: null },
        ],
      });
    }
    return this.send(res, 404, { itemNotFound: { code: 404, message: `no route ${method} ${path}` } });
  }

  private listImages(query: URLSearchParams, res: ServerResponse): void {
    const limit = Number(query.get('limit') ?? 25);
    const marker = query.get('marker');
    const rest = marker ? this.images.slice(this.images.findIndex((i) => i.id === marker) + 1) : this.images;
    const page = rest.slice(0, limit);
    const body: Record<string, unknown> = {
      images: page.map((i) => ({
        ...i,
        status: 'active',
        tags: [],
        container_format: 'bare',
        disk_format: 'qcow2',
        visibility: 'public',
        min_disk: 0,
        min_ram: 0,
        protected: false,
        created_at: '2014-11-07T17:07:06Z',
        updated_at: '2014-11-07T17:19:09Z',
        self: `/v2/images/${i.id}`,
        file: `/v2/images/${i.id}/file`,
        schema: '/v2/schemas/image',
      })),
      schema: '/v2/schemas/images',
      first: `/v2/images?limit=${limit}`,
    };
    if (rest.length > limit) body['next'] = `/v2/images?limit=${limit}&marker=${page[page.length - 1]!.id}`;
    this.send(res, 200, body);
  }
}

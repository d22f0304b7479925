import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BROKER_USERS, NEPHELE_SERVICES, rabbitPasswordVar } from './deploy.constants';
import { ComposeModel, WORKSPACE_ROOT, composeConfig, dockerCompose } from './render.util';

/** A distinct password per RabbitMQ user, so a URL with another user's password shows. */
const BROKER_PASSWORDS = Object.fromEntries(BROKER_USERS.map((u) => [rabbitPasswordVar(u), `pw-${u}`]));
const SECRETS = {
  NEPHELE_MASTER_KEY: 'test-master-key',
  NEPHELE_BOOTSTRAP_TOKEN: 'test-bootstrap-token',
  ...BROKER_PASSWORDS,
};
const INFRA = ['postgres', 'rabbitmq', 'gateway'];

describe('docker-compose.yml', () => {
  let model: ComposeModel;

  beforeAll(async () => {
    model = await composeConfig(SECRETS);
  });

  it('passes `docker-compose config -q`, and refuses to start without the shared secrets', async () => {
    expect(await dockerCompose(['config', '-q'], SECRETS)).toEqual(expect.objectContaining({ code: 0 }));
    const bare = await dockerCompose(['config', '-q'], {
      ...BROKER_PASSWORDS,
      NEPHELE_MASTER_KEY: '',
      NEPHELE_BOOTSTRAP_TOKEN: '',
    });
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toMatch(/NEPHELE_(MASTER_KEY|BOOTSTRAP_TOKEN)/);
    // and without any RabbitMQ user's password (no built-in default)
    for (const v of Object.keys(BROKER_PASSWORDS)) {
      const r = await dockerCompose(['config', '-q'], { ...SECRETS, [v]: '' });
      expect({ v, code: r.code, named: r.stderr.includes(v) }).toEqual({ v, code: 1, named: true });
    }
  });

  it('loads one RabbitMQ user per service, agents and clients, with passwords from .env', () => {
    const rmq = model.services.rabbitmq;
    const mounts = (rmq.volumes ?? []).map((v) =>
      typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v,
    );
    const dir = mounts.find((m) => m.target === '/etc/rabbitmq/nephele');
    expect(path.resolve(WORKSPACE_ROOT, dir!.source!)).toBe(path.join(WORKSPACE_ROOT, 'deploy/compose/rabbitmq'));
    expect(rmq.entrypoint).toEqual(['bash', '/etc/rabbitmq/nephele/init-users.sh']);
    // no anonymous AMQP 1.0 logins
    const conf = mounts.find((m) => m.target?.startsWith('/etc/rabbitmq/conf.d/'));
    expect(readFileSync(path.resolve(WORKSPACE_ROOT, conf!.source!), 'utf8')).toMatch(
      /^amqp1_0\.default_user = none$/m,
    );
    // the broker gets every user's password; load-users.sh maps each user to its variable
    for (const [v, pw] of Object.entries(BROKER_PASSWORDS)) expect(rmq.environment?.[v]).toBe(pw);
    const usersTxt = readFileSync(path.join(WORKSPACE_ROOT, 'deploy/compose/rabbitmq/users.txt'), 'utf8');
    const mapped = usersTxt.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(mapped.sort()).toEqual(BROKER_USERS.map((u) => [u, rabbitPasswordVar(u)]).sort());
    // healthy only once the users are loaded
    expect(JSON.stringify(rmq.healthcheck?.test)).toContain('/tmp/nephele-users-ready');
  });

  it('has PostgreSQL, RabbitMQ, the gateway and every service', async () => {
    const listed = (await dockerCompose(['config', '--services'], SECRETS)).stdout.trim().split('\n').sort();
    expect(listed).toEqual([...INFRA, ...NEPHELE_SERVICES.map((s) => s.app)].sort());
    expect(model.services.postgres.image).toMatch(/^postgres:15/);
    expect(model.services.rabbitmq.image).toMatch(/^rabbitmq:3\.[\d.]+-management/);
  });

  it('enables RabbitMQ`s AMQP 1.0 plugin', () => {
    const mounts = (model.services.rabbitmq.volumes ?? []).map((v) =>
      typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v,
    );
    const plugins = mounts.find((m) => m.target === '/etc/rabbitmq/enabled_plugins');
    expect(plugins?.source).toBeDefined();
    const file = readFileSync(path.resolve(WORKSPACE_ROOT, plugins!.source!), 'utf8');
    // an Erlang list of atoms, terminated by a dot
    expect(file.trim()).toMatch(/^\[[a-z0-9_,\s]*\]\.$/);
    expect(file).toMatch(/\brabbitmq_amqp1_0\b/);
  });

  it.each(NEPHELE_SERVICES)('builds and wires $app', (svc) => {
    const s = model.services[svc.app];
    expect(s.build?.context).toBe(WORKSPACE_ROOT);
    expect(s.build?.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
    expect(s.build?.args).toEqual({ APP: svc.app });
    const env = s.environment ?? {};
    expect(env.PORT).toBe(String(svc.port));
    expect(env.DATABASE_URL).toMatch(/^postgres(ql)?:\/\/[^@]+@postgres:5432\/\w+$/);
    // its own RabbitMQ user, with that user's password
    const own = `amqp://${svc.app}:${BROKER_PASSWORDS[rabbitPasswordVar(svc.app)]}@rabbitmq:5672`;
    expect(env.AMQP_URL).toBe(own);
    if (svc.app === 'cloud-policy-engine') {
      expect(env.AMQP10_URL).toBe(own);
      // agents get the agent user (their URL is written into instances' user data)
      expect(env.NEPHELE_AGENT_EDGE_URL).toBe(
        `amqp://nephele-agent:${BROKER_PASSWORDS.RABBITMQ_AGENT_PASSWORD}@rabbitmq:5672`,
      );
    } else {
      expect(env.AMQP10_URL).toBeUndefined();
    }
    expect(env.NEPHELE_MASTER_KEY).toBe(SECRETS.NEPHELE_MASTER_KEY);
    expect(env.NEPHELE_BOOTSTRAP_TOKEN).toBe(SECRETS.NEPHELE_BOOTSTRAP_TOKEN);
    expect(s.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      rabbitmq: { condition: 'service_healthy' },
    });
    expect(s.healthcheck?.test).toEqual(expect.arrayContaining(['/readyz']));
    expect(s.ports).toEqual([expect.objectContaining({ published: svc.port, target: svc.port })]);
  });

  it('has healthchecks on the infrastructure, and the gateway waits for every service', () => {
    for (const name of INFRA) expect(model.services[name].healthcheck?.test).toBeDefined();
    expect(Object.keys(model.services.gateway.depends_on ?? {}).sort()).toEqual(
      NEPHELE_SERVICES.map((s) => s.app).sort(),
    );
  });

  it('routes every REST prefix through the gateway to its service', () => {
    const conf = readFileSync(path.join(WORKSPACE_ROOT, 'deploy/compose/gateway/nginx.conf'), 'utf8');
    const locations = [...conf.matchAll(/location ~ (\S+) \{ set \$upstream ([\w-]+:\d+);/g)].map((m) => ({
      re: new RegExp(m[1]),
      upstream: m[2],
    }));
    const route = (uri: string) => locations.filter((l) => l.re.test(uri)).map((l) => l.upstream);
    for (const svc of NEPHELE_SERVICES) {
      for (const prefix of svc.prefixes) {
        for (const uri of [prefix, `${prefix}/`, `${prefix}/3f2a/child`]) {
          expect({ uri, upstream: route(uri) }).toEqual({ uri, upstream: [`${svc.app}:${svc.port}`] });
        }
        // whole path segments only: /v1/pools must not take /v1/pools-archive
        expect(route(`${prefix}x`)).toEqual([]);
      }
    }
  });
});

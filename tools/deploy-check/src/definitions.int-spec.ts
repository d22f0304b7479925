import { readFileSync } from 'node:fs';
import { EdgeAddresses, Topology } from '@nephele/contracts';
import { BROKER_ADMIN, BROKER_SERVICE_USERS, BROKER_USERS } from './deploy.constants';
import { DEFINITIONS_FILE, Definitions } from './definitions.util';

// Static checks of definitions.json (the real broker check is broker-permissions.int-spec.ts).
// RabbitMQ matches each regex against the whole resource name (exchange or queue) with PCRE;
// JavaScript's RegExp agrees on the subset used here (alternation, escapes, a lookahead).
describe('deploy/compose/rabbitmq/definitions.json', () => {
  const defs = JSON.parse(readFileSync(DEFINITIONS_FILE, 'utf8')) as Definitions;
  const perm = (user: string) => {
    const p = defs.permissions.filter((x) => x.user === user);
    expect({ user, grants: p.length }).toEqual({ user, grants: 1 });
    const re = (s: string) => new RegExp(s);
    return { configure: re(p[0].configure), write: re(p[0].write), read: re(p[0].read) };
  };
  /** Names a service's real code uses (queues `<service>.<purpose>`, its DLQ). */
  const queuesOf = (svc: string) => [`${svc}.events`, `${svc}.commands`, Topology.dlq(svc), `${svc}.x.y`];

  it('has one user per service, one for agents, one for management clients and the admin — no password inside', () => {
    expect(defs.users.map((u) => u.name).sort()).toEqual([...BROKER_USERS].sort());
    for (const u of defs.users) {
      // passwords are set from .env / the Secrets by load-users.sh
      expect({ user: u.name, hash: u.password_hash }).toEqual({ user: u.name, hash: '' });
      const tags = Array.isArray(u.tags) ? u.tags : u.tags.split(',').filter(Boolean);
      expect({ user: u.name, tags }).toEqual({ user: u.name, tags: u.name === BROKER_ADMIN ? ['administrator'] : [] });
    }
    expect(new Set(defs.permissions.map((p) => p.vhost))).toEqual(new Set(defs.vhosts.map((v) => v.name)));
  });

  it('grants no user but the admin write (or configure, or read) on the whole vhost', () => {
    const probes = ['amq.topic', 'amq.direct', 'unrelated', 'x.y', 'nephele.anything-new'];
    for (const p of defs.permissions) {
      if (p.user === BROKER_ADMIN) continue;
      for (const kind of ['configure', 'write', 'read'] as const) {
        expect({ user: p.user, kind, wide: p[kind] === '.*' || /^\^?\.\*\$?$/.test(p[kind]) }).toEqual({
          user: p.user,
          kind,
          wide: false,
        });
        const re = new RegExp(p[kind]);
        for (const name of probes) expect({ user: p.user, kind, name, allowed: re.test(name) }).toEqual({
          user: p.user,
          kind,
          name,
          allowed: false,
        });
      }
    }
  });

  it.each(BROKER_SERVICE_USERS)('%s: its own queues and the bus exchanges, no other service`s queues', (svc) => {
    const p = perm(svc);
    for (const q of queuesOf(svc)) {
      expect({ q, configure: p.configure.test(q), write: p.write.test(q), read: p.read.test(q) }).toEqual({
        q,
        configure: true,
        write: true,
        read: true,
      });
    }
    for (const ex of [Topology.events, Topology.commands, Topology.dlx]) {
      expect({ ex, c: p.configure.test(ex), w: p.write.test(ex), r: p.read.test(ex) }).toEqual({
        ex,
        c: true,
        w: true,
        r: true,
      });
    }
    // in compose the CPE's DPE workers are its child processes, with its URLs
    const alsoHeld = svc === 'cloud-policy-engine' ? ['dpe-worker'] : [];
    for (const other of BROKER_SERVICE_USERS.filter((o) => o !== svc && !alsoHeld.includes(o))) {
      for (const q of queuesOf(other)) {
        expect({ q, configure: p.configure.test(q), read: p.read.test(q) }).toEqual({
          q,
          configure: false,
          read: false,
        });
      }
    }
    // agents' command queues are theirs to read
    expect(p.read.test(EdgeAddresses.agent('a1'))).toBe(false);
  });

  it('agents: their command queues and sending events/results; management clients: nephele.cpe and replies', () => {
    const agent = perm('nephele-agent');
    expect(agent.read.test(EdgeAddresses.agent('asm-1'))).toBe(true);
    expect(agent.read.test('nephele.agent.events.dep-1')).toBe(false);
    expect(agent.configure.test('nephele.agent.events.dep-1')).toBe(true);
    expect(agent.configure.test(EdgeAddresses.cpe)).toBe(false);
    expect(agent.read.test(EdgeAddresses.cpe)).toBe(false);
    for (const ex of [Topology.events, Topology.commands, Topology.dlx]) expect(agent.write.test(ex)).toBe(false);

    const client = perm('nephele-client');
    expect(client.configure.test(EdgeAddresses.cpe)).toBe(true);
    expect(client.read.test(EdgeAddresses.cpe)).toBe(false);
    expect(client.read.test('reply.3f2a')).toBe(true);
    expect(client.configure.test(EdgeAddresses.agent('asm-1'))).toBe(false);
    expect(client.read.test(EdgeAddresses.agent('asm-1'))).toBe(false);
    for (const ex of [Topology.events, Topology.commands, Topology.dlx]) expect(client.write.test(ex)).toBe(false);

    expect(perm('cloud-policy-engine').read.test(EdgeAddresses.cpe)).toBe(true);
    for (const other of BROKER_SERVICE_USERS.filter((s) => s !== 'cloud-policy-engine'))
      expect({ other, cpe: perm(other).read.test(EdgeAddresses.cpe) }).toEqual({ other, cpe: false });
  });
});

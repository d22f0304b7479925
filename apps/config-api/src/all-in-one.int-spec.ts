import { DynamicModule, INestApplication, Module } from '@nestjs/common';
import { Bus } from '@nephele/bus';
import { AccountCredentials, ConfigExport, createEvent } from '@nephele/contracts';
import { generateMasterKey } from '@nephele/crypto';
import { BUS, CoreModule, createHttpApp } from '@nephele/service-kit';
import { createTestDatabase, TestResource } from '@nephele/testing';
import { ConfigApiModule, loadConfigApiConfig } from './index';
import { ADMIN, Client } from './test/harness';

@Module({})
class AllInOneShape {
  static forRoot(databaseUrl: string): DynamicModule {
    const env = {
      DATABASE_URL: databaseUrl,
      NEPHELE_BOOTSTRAP_TOKEN: ADMIN,
      NEPHELE_MASTER_KEY: generateMasterKey(),
      LOG_LEVEL: 'warn',
    };
    return {
      module: AllInOneShape,
      imports: [
        CoreModule.forRoot({ service: 'nephele', bootstrapToken: ADMIN, logLevel: 'warn' }),
        ConfigApiModule.forRoot(loadConfigApiConfig(env)),
      ],
    };
  }
}

/**
 * The config-api module as the all-in-one hosts it: the in-memory bus and CoreModule's own token
 * verifier, which reaches the introspection responder through that bus. (Embedded PGlite cannot
 * load under jest's CommonJS VM; the database here is the real PostgreSQL.)
 */
describe('ConfigApiModule in the all-in-one shape (memory bus, CoreModule token verifier)', () => {
  let app: INestApplication;
  let admin: Client;
  let db: TestResource;

  beforeAll(async () => {
    db = await createTestDatabase('configapi_aio');
    app = await createHttpApp(AllInOneShape.forRoot(db.url), { title: 'all-in-one' });
    await app.listen(0, '127.0.0.1');
    admin = new Client((await app.getUrl()).replace('[::1]', '127.0.0.1'), ADMIN);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('authenticates tokens through the memory bus and serves the broker config', async () => {
    const project = (await admin.create('/v1/projects', { name: 'default' })).id;
    const member = await admin.create('/v1/tokens', { project, role: 'member', name: 'm' });
    const asMember = admin.as(member.token);
    // A member may open accounts on providers that do not run host processes (see Note [Host drivers]).
    const provider = (await admin.create('/v1/providers', { name: 'sim', kind: 'simulated' })).id;
    const account = await asMember.create('/v1/provider-accounts', {
      providerId: provider,
      name: 'a',
      credentials: { password: 'p' },
    });
    const family = await asMember.create('/v1/pool-families', { name: 'f', accountIds: [account.id] });
    await asMember.create('/v1/pools', { name: 'default', familyId: family.id });
    expect((await asMember.get('/v1/pools')).body.items).toHaveLength(1);

    const bus = app.get<Bus>(BUS);
    expect(bus.kind).toBe('memory');
    const snapshot: any = await bus.request(createEvent('t', ConfigExport.type, {}));
    expect(snapshot.pools.map((p: { name: string }) => p.name)).toEqual(['default']);
    const creds: any = await bus.request(
      createEvent('t', AccountCredentials.type, { accountId: account.id }),
    );
    expect(creds.credentials).toEqual({ password: 'p' });

    // Revoked: the guard's verdict cache keeps a positive answer up to 30 s, so ask the responder.
    await admin.del(`/v1/tokens/${member.id}`);
    expect(
      await bus.request(createEvent('t', 'nephele.config.token.introspect', { token: member.token })),
    ).toBeNull();
  });
});

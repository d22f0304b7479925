import { createTestDatabase, TestResource } from '@nephele/testing';
import { sharedSessionPg } from './shared-pool';

/**
 * Note [Fair share]: a consumer's backlog on the embedded database's one connection delays only
 * itself. (The shared pool is what embedded mode uses; PGlite itself cannot load inside jest, so the
 * one connection here goes to the real PostgreSQL server.)
 */
describe('one shared connection (the embedded mode pool)', () => {
  let db: TestResource;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase('sharedpool');
    url = db.url;
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('serves consumers round-robin: one with 200 queued statements does not hold back another', async () => {
    const busy = new sharedSessionPg.Pool({ connectionString: url });
    const quiet = new sharedSessionPg.Pool({ connectionString: url });
    const order: string[] = [];
    const run = (pool: InstanceType<typeof sharedSessionPg.Pool>, label: string) =>
      new Promise<void>((resolve, reject) =>
        pool.connect((err, client, release) => {
          if (err || !client) return reject(err ?? new Error('no client'));
          client.query('SELECT 1').then(
            () => {
              order.push(label);
              release();
              resolve();
            },
            (e: Error) => {
              release(e);
              reject(e);
            },
          );
        }),
      );
    const flood = Array.from({ length: 200 }, (_, i) => run(busy, `busy-${i}`));
    const other = run(quiet, 'quiet');
    // The promise form (pool.connect() → client.release()) takes its turn the same way.
    const promised = (async () => {
      const c = await quiet.connect();
      await c.query('SELECT 2');
      order.push('quiet-promise');
      c.release();
    })();
    await Promise.all([...flood, other, promised]);
    expect(order.indexOf('quiet')).toBeLessThan(3);
    expect(order.indexOf('quiet-promise')).toBeLessThan(5);
    expect(order.filter((l) => l.startsWith('busy-'))).toHaveLength(200);
    await Promise.all([busy.end(), quiet.end()]);
  });
});

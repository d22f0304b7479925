import { DataSource, MigrationInterface } from 'typeorm';
import { cliDataSource } from './data-source.factory';

class CreateThings1700000000000 implements MigrationInterface {
  async up(): Promise<void> {}
  async down(): Promise<void> {}
}

describe(cliDataSource.name, () => {
  it('builds the DataSource only when awaited, from DATABASE_URL, with the app schema and migrations', async () => {
    const env: Record<string, string | undefined> = {};
    const sut = cliDataSource({ schema: 'things', migrations: [CreateThings1700000000000] }, env);
    env['DATABASE_URL'] = 'postgres://postgres@127.0.0.1:5432/things';
    const ds = await sut;
    expect(ds).toBeInstanceOf(DataSource);
    expect(ds.isInitialized).toBe(false);
    expect(ds.options).toMatchObject({
      type: 'postgres',
      schema: 'things',
      url: 'postgres://postgres@127.0.0.1:5432/things',
      migrations: [CreateThings1700000000000],
      migrationsTableName: 'migrations',
      synchronize: false,
    });
  });

  it('names DATABASE_URL when it is missing', async () => {
    const sut = cliDataSource({ schema: 'things', migrations: [] }, {});
    await expect(Promise.resolve(sut)).rejects.toThrow(/DATABASE_URL/);
  });
});

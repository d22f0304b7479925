import { Controller, Get, INestApplication, Module, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { createTestDatabase, TestResource } from '@nephele/testing';
import { ProblemDetailsFilter } from './problem';

let pg: Client;

/** Stores what the client sent in a typed column of real PostgreSQL, as a service would. */
@Controller('store')
class StoreController {
  @Get('int')
  async int(@Query('v') v: string): Promise<unknown> {
    return (await pg.query('SELECT $1::int AS v', [v])).rows[0];
  }

  @Get('text')
  async text(@Query('v') v: string): Promise<unknown> {
    return (await pg.query('SELECT $1::text AS v', [v])).rows[0];
  }

  @Get('bug')
  async bug(): Promise<unknown> {
    return (await pg.query('SELECT * FROM no_such_table')).rows;
  }
}

@Module({ controllers: [StoreController] })
class StoreModule {}

describe('ProblemDetailsFilter with real PostgreSQL errors', () => {
  let db: TestResource;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase('problem');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    app = await NestFactory.create(StoreModule, { logger: false });
    app.useGlobalFilters(new ProblemDetailsFilter());
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await pg?.end();
    await db?.drop();
  });

  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as any };
  };

  it('answers 400 for a value PostgreSQL cannot store (class 22), never a 500', async () => {
    const ok = await get('/store/int?v=42');
    expect(ok).toMatchObject({ status: 200, body: { v: 42 } });
    const big = await get('/store/int?v=-2736013025617805');
    expect(big.status).toBe(400);
    expect(big.type).toMatch(/application\/problem\+json/);
    expect(big.body.detail).toMatch(/out of range/);
    const notANumber = await get('/store/int?v=twelve');
    expect(notANumber.status).toBe(400);
    const nul = await get('/store/text?v=a%00b');
    expect(nul.status).toBe(400);
    expect(nul.body.detail).toMatch(/NUL/);
  });

  it('still answers 500 for a failure of ours, without its details', async () => {
    const bug = await get('/store/bug');
    expect(bug.status).toBe(500);
    expect(JSON.stringify(bug.body)).not.toMatch(/no_such_table/);
  });
});

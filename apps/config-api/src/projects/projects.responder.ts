import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Bus } from '@nephele/bus';
import { ProjectGet, ProjectGetData } from '@nephele/contracts';
import { BUS } from '@nephele/service-kit';
import { CONFIG_API_DB } from '../config-api.tokens';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$/;

/** Answers `nephele.config.project.get` `{project}` (id or name) → `{id, name}` or null. */
@Injectable()
export class ProjectsResponder implements OnApplicationBootstrap {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CONFIG_API_DB) private readonly db: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond('config-api.projects', [ProjectGet.type], (e) =>
      this.resolve((e.data as ProjectGetData).project),
    );
  }

  async resolve(ref: string): Promise<{ id: string; name: string } | null> {
    if (typeof ref !== 'string') return null;
    const byId = UUID.test(ref);
    // A name no project can have never reaches the database (PostgreSQL refuses NUL in text).
    if (!byId && !NAME.test(ref)) return null;
    const rows: { id: string; name: string }[] = await this.db.query(
      `SELECT id, name FROM config_api.projects WHERE ${byId ? 'id = $1' : 'name = $1'} LIMIT 1`,
      [ref],
    );
    return rows[0] ?? null;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SqlRepository } from '@nephele/persistence';
import { CONFIG_API_DB } from '../config-api.tokens';

/** Projects looked up by reference (the generic store does the rest). */
@Injectable()
export class ProjectsRepository extends SqlRepository {
  constructor(@Inject(CONFIG_API_DB) db: DataSource) {
    super(db);
  }

  /** The project whose id or name is `ref` (an id wins). */
  async byIdOrName(ref: string): Promise<{ id: string; name: string } | undefined> {
    const rows: { id: string; name: string }[] = await this.db.query(
      `SELECT id, name FROM config_api.projects WHERE id::text = $1 OR name = $1 ORDER BY (id::text = $1) DESC LIMIT 1`,
      [ref],
    );
    return rows[0];
  }
}

import { Injectable } from '@nestjs/common';
import { ChangeRecorder } from '../common/change-recorder';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService } from '../common/resource.service';
import { PROJECTS } from './projects.resource';

@Injectable()
export class ProjectsService extends ResourceService {
  constructor(repo: ResourceRepository, changes: ChangeRecorder) {
    super(repo, changes, PROJECTS);
  }

  /** A project by id or name (the `nephele.config.project.resolve` bus request). */
  async resolve(ref: string): Promise<{ id: string; name: string } | null> {
    // A reference no project can have never reaches the database (PostgreSQL refuses NUL in text).
    if (
      typeof ref !== 'string' ||
      ref.length === 0 ||
      ref.length > 200 ||
      [...ref].some((c) => c.charCodeAt(0) < 32)
    )
      return null;
    const rows: { id: string; name: string }[] = await this.repo.db.query(
      `SELECT id, name FROM config_api.projects WHERE id::text = $1 OR name = $1 ORDER BY (id::text = $1) DESC LIMIT 1`,
      [ref],
    );
    return rows[0] ?? null;
  }
}

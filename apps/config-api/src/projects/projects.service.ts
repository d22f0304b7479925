import { Injectable } from '@nestjs/common';
import { ChangeRecorder } from '../common/change-recorder';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService } from '../common/resource.service';
import { ProjectsRepository } from './projects.repository';
import { PROJECTS } from './projects.resource';

@Injectable()
export class ProjectsService extends ResourceService {
  constructor(
    repo: ResourceRepository,
    changes: ChangeRecorder,
    private readonly projects: ProjectsRepository,
  ) {
    super(repo, changes, PROJECTS);
  }

  /** A project by id or name (the `nephele.config.project.resolve` bus request). */
  async resolve(ref: string): Promise<{ id: string; name: string } | null> {
    // A reference no project can have never reaches the database (PostgreSQL refuses NUL in text).
    if (
      typeof ref !== 'string' ||
      ref.length === 0 ||
      ref.length > 200 ||
      [...ref].some((c) => c.charCodeAt(0) < 0x20)
    )
      return null;
    return (await this.projects.byIdOrName(ref)) ?? null;
  }
}

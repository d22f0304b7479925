import { crudController } from '../common/crud.controller';
import { CreateProjectDto, ListProjectsQueryDto, UpdateProjectDto } from './dto/project.dto';
import { ProjectsService } from './projects.service';
import { PROJECTS } from './projects.resource';

export const ProjectsController = crudController({
  path: 'projects',
  tag: 'projects',
  label: 'project',
  service: ProjectsService,
  spec: PROJECTS,
  createDto: CreateProjectDto,
  updateDto: UpdateProjectDto,
  queryDto: ListProjectsQueryDto,
  adminWrites: true,
});

import { crudController } from '../common/crud.controller';
import { CreateProjectDto, ListProjectsQueryDto, UpdateProjectDto } from './dto/project.dto';
import { ProjectsService } from './projects.service';

export const ProjectsController = crudController({
  path: 'projects',
  tag: 'projects',
  label: 'project',
  service: ProjectsService,
  createDto: CreateProjectDto,
  updateDto: UpdateProjectDto,
  queryDto: ListProjectsQueryDto,
  adminWrites: true,
});

import { crudController } from '../common/crud.controller';
import { CreatePoolFamilyDto, ListPoolFamiliesQueryDto, UpdatePoolFamilyDto } from './dto/pool-family.dto';
import { PoolFamiliesService } from './pool-families.service';

export const PoolFamiliesController = crudController({
  path: 'pool-families',
  tag: 'pools',
  label: 'pool family',
  service: PoolFamiliesService,
  createDto: CreatePoolFamilyDto,
  updateDto: UpdatePoolFamilyDto,
  queryDto: ListPoolFamiliesQueryDto,
});

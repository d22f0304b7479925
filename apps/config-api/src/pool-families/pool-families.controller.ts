import { crudController } from '../common/crud.controller';
import { CreatePoolFamilyDto, ListPoolFamiliesQueryDto, UpdatePoolFamilyDto } from './dto/pool-family.dto';
import { PoolFamiliesService } from './pool-families.service';
import { POOL_FAMILIES } from './pool-families.resource';

export const PoolFamiliesController = crudController({
  path: 'pool-families',
  tag: 'pools',
  label: 'pool family',
  service: PoolFamiliesService,
  spec: POOL_FAMILIES,
  createDto: CreatePoolFamilyDto,
  updateDto: UpdatePoolFamilyDto,
  queryDto: ListPoolFamiliesQueryDto,
});

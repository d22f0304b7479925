import { crudController } from '../common/crud.controller';
import { CreatePoolDto, ListPoolsQueryDto, UpdatePoolDto } from './dto/pool.dto';
import { PoolsService } from './pools.service';
import { POOLS } from './pools.resource';

export const PoolsController = crudController({
  path: 'pools',
  tag: 'pools',
  label: 'pool',
  service: PoolsService,
  spec: POOLS,
  createDto: CreatePoolDto,
  updateDto: UpdatePoolDto,
  queryDto: ListPoolsQueryDto,
});

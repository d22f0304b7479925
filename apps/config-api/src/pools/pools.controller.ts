import { crudController } from '../common/crud.controller';
import { CreatePoolDto, ListPoolsQueryDto, UpdatePoolDto } from './dto/pool.dto';
import { PoolsService } from './pools.service';

export const PoolsController = crudController({
  path: 'pools',
  tag: 'pools',
  label: 'pool',
  service: PoolsService,
  createDto: CreatePoolDto,
  updateDto: UpdatePoolDto,
  queryDto: ListPoolsQueryDto,
});

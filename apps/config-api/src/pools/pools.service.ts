import { Injectable } from '@nestjs/common';
import { ChangeRecorder } from '../common/change-recorder';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService } from '../common/resource.service';
import { POOLS } from './pools.resource';

@Injectable()
export class PoolsService extends ResourceService {
  constructor(repo: ResourceRepository, changes: ChangeRecorder) {
    super(repo, changes, POOLS);
  }
}

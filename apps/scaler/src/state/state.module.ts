import { Module } from '@nestjs/common';
import { ConvergeSignal } from './converge.signal';
import { GroupsRepository } from './groups.repository';
import { PoliciesRepository } from './policies.repository';
import { RefreshRepository } from './refresh.repository';
import { ServersRepository } from './servers.repository';

/**
 * The scaler's tables and the converge request (Note [One pass per group]): the bottom of the
 * feature graph, imported by every feature and importing none (see Note [Scaler modules]).
 */
@Module({
  providers: [GroupsRepository, PoliciesRepository, ServersRepository, RefreshRepository, ConvergeSignal],
  exports: [GroupsRepository, PoliciesRepository, ServersRepository, RefreshRepository, ConvergeSignal],
})
export class StateModule {}

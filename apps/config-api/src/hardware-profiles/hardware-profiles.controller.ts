import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, CurrentPrincipal, Principal } from '@nephele/service-kit';
import { crudController } from '../common/crud.controller';
import {
  CreateHardwareProfileDto,
  ListHardwareProfilesQueryDto,
  MatchesQueryDto,
  MatchesViewDto,
  UpdateHardwareProfileDto,
} from './dto/hardware-profile.dto';
import { HardwareProfilesService, MatchesView } from './hardware-profiles.service';
import { HARDWARE_PROFILES } from './hardware-profiles.resource';

export const HardwareProfilesController = crudController({
  path: 'hardware-profiles',
  tag: 'hardware-profiles',
  label: 'hardware profile',
  service: HardwareProfilesService,
  spec: HARDWARE_PROFILES,
  createDto: CreateHardwareProfileDto,
  updateDto: UpdateHardwareProfileDto,
  queryDto: ListHardwareProfilesQueryDto,
});

@ApiTags('hardware-profiles')
@ApiBearerAuth()
@Controller('v1/hardware-profiles')
export class HardwareProfileMatchesController {
  constructor(private readonly profiles: HardwareProfilesService) {}

  @Get(':id/matches')
  @ApiOperation({
    summary:
      'Provider profiles that match, the one that would be chosen (smallest, then cheapest) and why the others do not',
  })
  @ApiOkResponse({ type: MatchesViewDto })
  @ApiProblems(400, 401, 404)
  matches(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query() q: MatchesQueryDto,
  ): Promise<MatchesView> {
    return this.profiles.matches(p, id, q.pool);
  }
}

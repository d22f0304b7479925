import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Principal } from '@nephele/service-kit';
import { crudController } from '../common/crud.controller';
import {
  CreateHardwareProfileDto,
  ListHardwareProfilesQueryDto,
  MatchesQueryDto,
  UpdateHardwareProfileDto,
} from './dto/hardware-profile.dto';
import { HardwareProfilesService, MatchesView } from './hardware-profiles.service';

export const HardwareProfilesController = crudController({
  path: 'hardware-profiles',
  tag: 'hardware-profiles',
  label: 'hardware profile',
  service: HardwareProfilesService,
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
  matches(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query() q: MatchesQueryDto,
  ): Promise<MatchesView> {
    return this.profiles.matches(p, id, q.pool);
  }
}

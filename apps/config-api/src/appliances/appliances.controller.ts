import { crudController } from '../common/crud.controller';
import { AppliancesService, ImplementationsService } from './appliances.service';
import {
  CreateApplianceDto,
  CreateImplementationDto,
  ListAppliancesQueryDto,
  ListImplementationsQueryDto,
  UpdateApplianceDto,
  UpdateImplementationDto,
} from './dto/appliance.dto';
import { APPLIANCES, APPLIANCE_IMPLEMENTATIONS } from './appliances.resource';

export const AppliancesController = crudController({
  path: 'appliances',
  tag: 'appliances',
  label: 'appliance',
  service: AppliancesService,
  spec: APPLIANCES,
  createDto: CreateApplianceDto,
  updateDto: UpdateApplianceDto,
  queryDto: ListAppliancesQueryDto,
});

export const ImplementationsController = crudController({
  parent: { path: 'appliances', param: 'applianceId' },
  path: 'implementations',
  tag: 'appliances',
  label: 'implementation',
  service: ImplementationsService,
  spec: APPLIANCE_IMPLEMENTATIONS,
  createDto: CreateImplementationDto,
  updateDto: UpdateImplementationDto,
  queryDto: ListImplementationsQueryDto,
  summaries: {
    list: "An appliance's implementations (one per provider and version)",
    create: 'Add an implementation: a deployable template for one provider, with parameters and outputs',
  },
});

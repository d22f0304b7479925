import type { Type } from '@nestjs/common';
import { AlarmsController } from './alarms/alarms.controller';
import { GroupsController } from './groups/groups.controller';
import { LifecycleHooksController } from './groups/lifecycle-hooks.controller';
import { RefreshController } from './groups/refresh.controller';
import { ExecuteController, PoliciesController } from './policies/policies.controller';

/** The scaler's REST controllers, whose operations `/docs` lists (Note [OpenAPI responses]). */
export const scalerControllers: Type[] = [
  GroupsController,
  RefreshController,
  LifecycleHooksController,
  PoliciesController,
  ExecuteController,
  AlarmsController,
];

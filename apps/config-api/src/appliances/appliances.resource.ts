import { ResourceSpec } from '../common/resource.types';

/** An appliance (the appliance registry): project-owned, with one implementation per provider and version. */
export const APPLIANCES: ResourceSpec = {
  resource: 'appliances',
  label: 'appliance',
  table: 'appliances',
  scope: 'project',
  columns: [
    { api: 'name', col: 'name', kind: 'text', filter: true },
    { api: 'description', col: 'description', kind: 'text' },
  ],
  referrers: [
    {
      resource: 'appliance-implementations',
      label: 'appliance implementation',
      table: 'appliance_implementations',
      column: 'appliance_id',
      name: 'template_version',
    },
  ],
  conflicts: { appliances_name_key: 'an appliance with that name already exists in this project' },
};

/** A deployable template of an appliance for one provider (site), with declared parameters and outputs. */
export const APPLIANCE_IMPLEMENTATIONS: ResourceSpec = {
  resource: 'appliance-implementations',
  label: 'appliance implementation',
  table: 'appliance_implementations',
  scope: 'project',
  parent: { api: 'applianceId', col: 'appliance_id', table: 'appliances', label: 'appliance' },
  columns: [
    { api: 'providerId', col: 'provider_id', kind: 'uuid', filter: true, createOnly: true },
    { api: 'templateVersion', col: 'template_version', kind: 'text', filter: true, createOnly: true },
    { api: 'templateFormat', col: 'template_format', kind: 'text' },
    { api: 'template', col: 'template', kind: 'text' },
    { api: 'parameters', col: 'parameters', kind: 'json' },
    { api: 'outputs', col: 'outputs', kind: 'json' },
    { api: 'description', col: 'description', kind: 'text' },
  ],
  refs: [{ api: 'providerId', table: 'providers', label: 'provider', sameProject: false }],
  conflicts: {
    appliance_implementations_version_key:
      'this appliance already has that templateVersion for that provider',
  },
};

import { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

// OpenAPI schemas of the CIMI (DMTF DSP0263) representations this gateway serves, as the
// controller writes them (see Note [OpenAPI responses] in service-kit).

const href: SchemaObject = { type: 'object', properties: { href: { type: 'string', format: 'uri' } } };
const operations: SchemaObject = {
  type: 'array',
  items: { type: 'object', properties: { rel: { type: 'string' }, href: { type: 'string' } } },
};

/** Common attributes of every CIMI resource. */
function resource(kind: string, extra: Record<string, SchemaObject>): SchemaObject {
  return {
    type: 'object',
    description: `CIMI ${kind}`,
    required: ['resourceURI', 'id'],
    properties: {
      resourceURI: { type: 'string', example: `http://schemas.dmtf.org/cimi/2/${kind}` },
      id: { type: 'string', format: 'uri' },
      name: { type: 'string' },
      description: { type: 'string' },
      created: { type: 'string', format: 'date-time' },
      updated: { type: 'string', format: 'date-time' },
      properties: { type: 'object', additionalProperties: { type: 'string' } },
      operations,
      ...extra,
    },
  };
}

function collection(kind: string, key: string, item: SchemaObject): SchemaObject {
  return resource(`${kind}Collection`, { count: { type: 'integer' }, [key]: { type: 'array', items: item } });
}

export const CLOUDS_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    count: { type: 'integer' },
    clouds: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, id: { type: 'string' }, href: { type: 'string' } },
      },
    },
  },
};

export const ENTRY_POINT_SCHEMA = resource('CloudEntryPoint', {
  baseURI: { type: 'string', format: 'uri' },
  machines: href,
  machineConfigs: href,
  machineImages: href,
  machineTemplates: href,
});

export const MACHINE_CONFIG_SCHEMA = resource('MachineConfiguration', {
  cpu: { type: 'integer' },
  memory: { type: 'integer', description: 'KiB' },
  disks: { type: 'array', items: { type: 'object', properties: { capacity: { type: 'integer' } } } },
  cpuArch: { type: 'string' },
});
export const MACHINE_CONFIGS_SCHEMA = collection(
  'MachineConfiguration',
  'machineConfigurations',
  MACHINE_CONFIG_SCHEMA,
);

export const MACHINE_IMAGE_SCHEMA = resource('MachineImage', {
  state: { type: 'string', example: 'AVAILABLE' },
  type: { type: 'string', example: 'IMAGE' },
});
export const MACHINE_IMAGES_SCHEMA = collection('MachineImage', 'machineImages', MACHINE_IMAGE_SCHEMA);

export const MACHINE_TEMPLATE_SCHEMA = resource('MachineTemplate', {
  machineConfig: href,
  machineImage: href,
});
export const MACHINE_TEMPLATES_SCHEMA = collection(
  'MachineTemplate',
  'machineTemplates',
  MACHINE_TEMPLATE_SCHEMA,
);

export const MACHINE_SCHEMA = resource('Machine', {
  state: {
    type: 'string',
    enum: [
      'CREATING',
      'STARTING',
      'STARTED',
      'STOPPING',
      'STOPPED',
      'RESTARTING',
      'DELETING',
      'DELETED',
      'ERROR',
    ],
  },
  machineImage: href,
  machineConfig: href,
  networkInterfaces: {
    type: 'array',
    items: {
      type: 'object',
      properties: {
        addresses: { type: 'array', items: { type: 'object', properties: { ip: { type: 'string' } } } },
      },
    },
  },
});
export const MACHINES_SCHEMA = collection('Machine', 'machines', MACHINE_SCHEMA);

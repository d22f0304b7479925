import { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ColumnKind, ResourceSpec } from './resource.types';

const KIND: Record<ColumnKind, SchemaObject> = {
  text: { type: 'string' },
  int: { type: 'integer' },
  bool: { type: 'boolean' },
  json: { type: 'object', additionalProperties: true },
  uuid: { type: 'string', format: 'uuid' },
  num: { type: 'number' },
};

/** The OpenAPI schema of a resource as ResourceService.toApi writes it (see Note [OpenAPI responses]). */
export function resourceSchema(spec: ResourceSpec): SchemaObject {
  const properties: Record<string, SchemaObject> = { id: { type: 'string', format: 'uuid' } };
  if (spec.scope === 'project') properties.project = { type: 'string', format: 'uuid' };
  if (spec.parent) properties[spec.parent.api] = { type: 'string', format: 'uuid' };
  for (const c of spec.columns) properties[c.api] = { ...KIND[c.kind], nullable: true };
  for (const c of spec.computed ?? []) properties[c.api] = { description: 'computed, read-only' };
  properties.version = { type: 'integer', description: 'also the ETag: W/"<version>"' };
  properties.createdAt = { type: 'string', format: 'date-time' };
  properties.updatedAt = { type: 'string', format: 'date-time' };
  return {
    type: 'object',
    description: spec.label,
    required: ['id', 'version', 'createdAt', 'updatedAt'],
    properties,
  };
}

/** A keyset page of resources: `{ items, nextCursor }`. */
export function resourcePageSchema(item: SchemaObject): SchemaObject {
  return {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: item }, nextCursor: { type: 'string', nullable: true } },
  };
}

import type { Response } from 'express';
import { etagOf } from '@nephele/service-kit';
import { Resource } from './resource.types';

/** Sets the ETag (and, for a creation, the Location) of a single-resource response. */
export function sendResource(res: Response, r: Resource, location?: string): Resource {
  res.setHeader('ETag', etagOf(r.version));
  if (location) res.setHeader('Location', location);
  return r;
}

/** A validated DTO as the plain record the generic service takes. */
export function plain(dto: object): Record<string, unknown> {
  return { ...(dto as Record<string, unknown>) };
}

import { openApiGaps, openApiOf } from '@nephele/service-kit';
import { scalerControllers } from './openapi';

describe('scaler OpenAPI', () => {
  it('documents the request body, a success schema and the problems of every operation', async () => {
    const doc = await openApiOf('scaler', scalerControllers);
    expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(15);
    expect(openApiGaps(doc)).toEqual([]);
    const body = (path: string, method: 'post' | 'put') =>
      (doc.paths[path]![method]!.requestBody as { content: Record<string, { schema: unknown }> }).content[
        'application/json'
      ]!.schema;
    expect(body('/v1/groups', 'post')).toEqual({ $ref: '#/components/schemas/CreateGroupDto' });
    expect(body('/v1/groups/{id}/policies/{pid}', 'put')).toEqual({ $ref: '#/components/schemas/PolicyDto' });
    expect(body('/v1/alarms/alertmanager', 'post')).toEqual({ $ref: '#/components/schemas/AlertmanagerDto' });
    const schemas = doc.components!.schemas as Record<string, { properties?: Record<string, unknown> }>;
    expect(Object.keys(schemas.PolicyDto!.properties!)).toEqual(
      expect.arrayContaining(['name', 'type', 'cooldown', 'args']),
    );
    expect(schemas.ScheduleArgsDto).toBeDefined();
  });
});

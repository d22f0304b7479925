import { openApiGaps, openApiOf } from '@nephele/service-kit';
import { ConfigApiModule } from './config-api.module';
import { loadConfigApiConfig } from './config/env';

describe('config-api OpenAPI', () => {
  it('documents a success schema and the problems of every operation', async () => {
    const { controllers } = ConfigApiModule.forRoot(loadConfigApiConfig({}));
    const doc = await openApiOf('config-api', controllers!);
    expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(25);
    expect(openApiGaps(doc)).toEqual([]);
    // A resource's schema is derived from its table description: the sealed credentials never show.
    const account = (doc.paths['/v1/provider-accounts/{id}']!.get!.responses['200'] as any).content[
      'application/json'
    ].schema;
    expect(Object.keys(account.properties)).toEqual(expect.arrayContaining(['providerId', 'hasCredentials']));
    expect(account.properties.credentials).toBeUndefined();
  });
});

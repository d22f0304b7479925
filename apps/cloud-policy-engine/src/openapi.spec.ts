import { openApiGaps, openApiOf } from '@nephele/service-kit';
import { loadCpeConfig } from './config/env';
import { CpeModule } from './cpe.module';

describe('cloud-policy-engine OpenAPI', () => {
  it('documents a success schema and the problems of every operation', async () => {
    const { controllers } = CpeModule.forRoot({ config: loadCpeConfig({}) });
    const doc = await openApiOf('cloud-policy-engine', controllers!);
    expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(8);
    expect(openApiGaps(doc)).toEqual([]);
  });
});

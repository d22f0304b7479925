import { openApiGaps, openApiOf } from '@nephele/service-kit';
import { loadStateTrackerConfig } from './config/env';
import { StateTrackerModule } from './state-tracker.module';

describe('state-tracker OpenAPI', () => {
  it('documents a success schema and the problems of every operation', async () => {
    const { controllers } = StateTrackerModule.forRoot(loadStateTrackerConfig({}));
    const doc = await openApiOf('state-tracker', controllers!);
    expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(3);
    expect(openApiGaps(doc)).toEqual([]);
  });
});

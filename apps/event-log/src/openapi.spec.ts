import { openApiGaps, openApiOf } from '@nephele/service-kit';
import { loadEventLogConfig } from './config/env';
import { EventLogModule } from './event-log.module';

describe('event-log OpenAPI', () => {
  it('documents a success schema and the problems of every operation', async () => {
    const { controllers } = EventLogModule.forRoot(loadEventLogConfig({}));
    const doc = await openApiOf('event-log', controllers!);
    expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(3);
    expect(openApiGaps(doc)).toEqual([]);
  });
});

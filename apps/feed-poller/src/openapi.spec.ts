import { openApiGaps, openApiOf } from '@nephele/service-kit';
import { loadFeedPollerConfig } from './config/env';
import { FeedPollerModule } from './feed-poller.module';

describe('feed-poller OpenAPI', () => {
  it('documents a success schema and the problems of every operation', async () => {
    const { controllers } = FeedPollerModule.forRoot(loadFeedPollerConfig({}));
    const doc = await openApiOf('feed-poller', controllers!);
    expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(2);
    expect(openApiGaps(doc)).toEqual([]);
  });
});

export { FeedPollerModule } from './feed-poller.module';
export { loadFeedPollerConfig } from './config/env';
export type { FeedPollerConfig } from './config/env';

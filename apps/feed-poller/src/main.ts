import 'reflect-metadata';
import { createHttpApp } from '@nephele/service-kit';
import { FeedPollerAppModule } from './app.module';
import { loadFeedPollerConfig } from './config/env';

async function main(): Promise<void> {
  const config = loadFeedPollerConfig();
  const app = await createHttpApp(FeedPollerAppModule.forRoot(config), { title: 'Nephele feed poller' });
  await app.listen(config.port, '0.0.0.0');
  console.log(JSON.stringify({ level: 'info', service: 'feed-poller', msg: `listening on :${config.port}` }));
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

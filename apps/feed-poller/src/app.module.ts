import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule } from '@nephele/service-kit';
import { FeedPollerConfig } from './config/env';
import { FeedPollerModule } from './feed-poller.module';

/** The feed poller as a standalone service. */
@Module({})
export class FeedPollerAppModule {
  static forRoot(config: FeedPollerConfig): DynamicModule {
    return {
      module: FeedPollerAppModule,
      imports: [
        CoreModule.forRoot({
          service: 'feed-poller',
          amqpUrl: config.amqpUrl,
          logLevel: config.logLevel,
          bootstrapToken: config.bootstrapToken,
        }),
        FeedPollerModule.forRoot(config),
      ],
    };
  }
}

import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule } from '@nephele/service-kit';
import { EventLogConfig } from './config/env';
import { EventLogModule } from './event-log.module';

/** The event log as a standalone service. */
@Module({})
export class EventLogAppModule {
  static forRoot(config: EventLogConfig): DynamicModule {
    return {
      module: EventLogAppModule,
      imports: [
        CoreModule.forRoot({
          service: 'event-log',
          amqpUrl: config.amqpUrl,
          logLevel: config.logLevel,
          bootstrapToken: config.bootstrapToken,
        }),
        EventLogModule.forRoot(config),
      ],
    };
  }
}

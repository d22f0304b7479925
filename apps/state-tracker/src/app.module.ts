import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule } from '@nephele/service-kit';
import { StateTrackerConfig } from './config/env';
import { StateTrackerModule } from './state-tracker.module';

@Module({})
export class StateTrackerAppModule {
  static forRoot(config: StateTrackerConfig): DynamicModule {
    return {
      module: StateTrackerAppModule,
      imports: [
        CoreModule.forRoot({
          service: 'state-tracker',
          amqpUrl: config.amqpUrl,
          logLevel: config.logLevel,
          bootstrapToken: config.bootstrapToken,
        }),
        StateTrackerModule.forRoot(config),
      ],
    };
  }
}

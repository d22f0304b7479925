import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule } from '@nephele/service-kit';
import { ScalerConfig } from './config/env';
import { ScalerModule } from './scaler.module';

@Module({})
export class ScalerAppModule {
  static forRoot(config: ScalerConfig): DynamicModule {
    return {
      module: ScalerAppModule,
      imports: [
        CoreModule.forRoot({
          service: 'scaler',
          amqpUrl: config.amqpUrl,
          logLevel: config.logLevel,
          bootstrapToken: config.bootstrapToken,
        }),
        ScalerModule.forRoot(config),
      ],
    };
  }
}

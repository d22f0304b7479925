import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule } from '@nephele/service-kit';
import { CpeConfig } from './config/env';
import { CpeModule } from './cpe.module';

@Module({})
export class CpeAppModule {
  static forRoot(config: CpeConfig): DynamicModule {
    return {
      module: CpeAppModule,
      imports: [
        CoreModule.forRoot({
          service: 'cloud-policy-engine',
          amqpUrl: config.amqpUrl,
          logLevel: config.logLevel,
          bootstrapToken: config.bootstrapToken,
        }),
        CpeModule.forRoot({ config }),
      ],
    };
  }
}

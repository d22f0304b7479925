import { DynamicModule, Module } from '@nestjs/common';
import { CoreModule } from '@nephele/service-kit';
import { GatewayConfig } from './config/env';
import { IaasGatewayModule } from './iaas-gateway.module';

@Module({})
export class IaasGatewayAppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: IaasGatewayAppModule,
      imports: [
        CoreModule.forRoot({
          service: 'iaas-gateway',
          amqpUrl: config.amqpUrl,
          logLevel: config.logLevel,
          bootstrapToken: config.bootstrapToken,
        }),
        IaasGatewayModule.forRoot(config),
      ],
    };
  }
}

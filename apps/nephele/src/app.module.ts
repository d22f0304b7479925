import { DynamicModule, Module } from '@nestjs/common';
import { EdgeConnection } from '@nephele/bus';
import { AppLogger } from '@nephele/observability';
import { CoreModule } from '@nephele/service-kit';
import { ConfigApiModule, loadConfigApiConfig } from '../../config-api/src';
import { ConsoleModule } from '../../console/src';
import { CpeConfig, CpeModule, DpeInlineHost } from '../../cloud-policy-engine/src';
import { EventLogModule, loadEventLogConfig } from '../../event-log/src';
import { FeedPollerModule, loadFeedPollerConfig } from '../../feed-poller/src';
import { IaasGatewayModule, loadGatewayConfig } from '../../iaas-gateway/src';
import { loadScalerConfig, ScalerModule } from '../../scaler/src';
import { loadStateTrackerConfig, StateTrackerModule } from '../../state-tracker/src';
import { AllInOneEnv } from './config/env';

export interface AllInOneParts {
  env: AllInOneEnv;
  /** The environment every module reads (with the admin token and master key filled in). */
  shared: NodeJS.ProcessEnv;
  logger: AppLogger;
  cpeConfig: CpeConfig;
  edge: () => EdgeConnection;
  dpeHost: () => DpeInlineHost;
}

/** Every service module in one process, sharing one bus, one embedded database server and one port. */
@Module({})
export class AllInOneModule {
  static forRoot(p: AllInOneParts): DynamicModule {
    const { env, shared } = p;
    return {
      module: AllInOneModule,
      imports: [
        CoreModule.forRoot({
          service: 'nephele',
          amqpUrl: env.AMQP_URL,
          logLevel: env.LOG_LEVEL,
          bootstrapToken: shared.NEPHELE_BOOTSTRAP_TOKEN,
          logger: p.logger,
        }),
        ConfigApiModule.forRoot(loadConfigApiConfig(shared)),
        EventLogModule.forRoot(loadEventLogConfig(shared)),
        StateTrackerModule.forRoot(
          loadStateTrackerConfig({ TRACKER_POLL_MS: '2000', TRACKER_FAST_POLL_MS: '300', ...shared }),
        ),
        IaasGatewayModule.forRoot(loadGatewayConfig({ GATEWAY_CONFIG_TTL_MS: '5000', ...shared })),
        CpeModule.forRoot({ config: p.cpeConfig, edge: p.edge, inlineHost: p.dpeHost }),
        ScalerModule.forRoot(loadScalerConfig(shared)),
        FeedPollerModule.forRoot(loadFeedPollerConfig(shared)),
        ConsoleModule,
      ],
    };
  }
}

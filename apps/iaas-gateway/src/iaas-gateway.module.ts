import { DynamicModule, Module } from '@nestjs/common';
import { databaseProviders } from '@nephele/service-kit';
import { AgentBundleController } from './agent-bundle/agent-bundle.controller';
import { AgentBundleService } from './agent-bundle/agent-bundle.service';
import { BrokerConfigService } from './config-cache/broker-config.service';
import { ConfigChangesConsumer } from './config-cache/config-changes.consumer';
import { CimiController } from './cimi/cimi.controller';
import { GatewayConfig } from './config/env';
import { GATEWAY_SCHEMA, gatewayMigrations } from './data-source';
import { DriverPoolService } from './drivers/driver-pool.service';
import { GATEWAY_CONFIG, GATEWAY_DB, GATEWAY_EMBEDDED, GATEWAY_OUTBOX, IMAGE_MAPPER } from './gateway.tokens';
import { createImageMapper } from './images/image-mapper';
import { LaunchesConsumer } from './launches/launches.consumer';
import { LaunchesRepository } from './launches/launches.repository';
import { LaunchesService } from './launches/launches.service';
import { EpochFence } from './launches/epoch.fence';
import { LaunchFallbackExecutor } from './launches/launch-fallback.executor';
import { LaunchOutcomePublisher } from './launches/launch-outcome.publisher';
import { LaunchRequestResolver } from './launches/launch-request.resolver';
import { ComputeController } from './openstack/compute.controller';
import { ComputeFlavorsController } from './openstack/compute-flavors.controller';
import { ComputeKeypairsController } from './openstack/compute-keypairs.controller';
import { IdentityController } from './openstack/identity.controller';
import { ImageController } from './openstack/image.controller';
import { OpenStackAuthService } from './openstack/openstack-auth.service';
import { OpenStackErrorFilter } from './openstack/openstack.errors';
import { OpenStackRepository } from './openstack/openstack.repository';
import { OrchestrationController } from './openstack/orchestration.controller';
import { ServersService } from './openstack/servers.service';
import { StacksService } from './openstack/stacks.service';

/** The IaaS gateway: drivers, provider selection, image mapping, instance commands (ARCHITECTURE §2, §4). */
@Module({})
export class IaasGatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: IaasGatewayModule,
      controllers: [
        CimiController,
        AgentBundleController,
        IdentityController,
        ComputeController,
        ComputeFlavorsController,
        ComputeKeypairsController,
        ImageController,
        OrchestrationController,
        LaunchesConsumer,
        ConfigChangesConsumer,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: IMAGE_MAPPER, useFactory: () => createImageMapper(config.imageMapper) },
        ...databaseProviders(
          'iaas-gateway',
          { db: GATEWAY_DB, embedded: GATEWAY_EMBEDDED, outbox: GATEWAY_OUTBOX },
          { schema: GATEWAY_SCHEMA, url: config.databaseUrl, migrations: gatewayMigrations, poolSize: 6 },
        ),
        BrokerConfigService,
        DriverPoolService,
        AgentBundleService,
        LaunchesRepository,
        LaunchesService,
        EpochFence,
        LaunchRequestResolver,
        LaunchFallbackExecutor,
        LaunchOutcomePublisher,
        OpenStackErrorFilter,
        OpenStackAuthService,
        OpenStackRepository,
        ServersService,
        StacksService,
      ],
      exports: [LaunchesService, BrokerConfigService, DriverPoolService, LaunchesRepository],
    };
  }
}

import {
  DynamicModule,
  Inject,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
  Provider,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Bus, OutboxRelay, SqlOutboxStore } from '@nephele/bus';
import { AppLogger } from '@nephele/observability';
import { createAppDataSource, pingDatabase } from '@nephele/persistence';
import { BUS, HealthRegistry, LOGGER } from '@nephele/service-kit';
import { AppliancesController, ImplementationsController } from './appliances/appliances.controller';
import { AppliancesResponder } from './appliances/appliances.responder';
import { AppliancesService, ImplementationsService } from './appliances/appliances.service';
import { BrokerConfigResponder } from './broker-config/broker-config.responder';
import { BrokerConfigService } from './broker-config/broker-config.service';
import { ChangeRecorder } from './common/change-recorder';
import { ResourceRepository } from './common/resource.repository';
import { AppliancesRepository } from './appliances/appliances.repository';
import { HardwareProfilesRepository } from './hardware-profiles/hardware-profiles.repository';
import { PoolFamiliesRepository } from './pool-families/pool-families.repository';
import { ProjectsRepository } from './projects/projects.repository';
import { ProviderAccountsRepository } from './provider-accounts/provider-accounts.repository';
import { TokensRepository } from './tokens/tokens.repository';
import { ConfigApiConfig } from './config/env';
import { CONFIG_API_CONFIG, CONFIG_API_DB, IN_PROCESS_TOKENS, OUTBOX_RELAY } from './config-api.tokens';
import { CONFIG_API_SCHEMA, configApiEntities, configApiMigrations } from './data-source';
import {
  HardwareProfileMatchesController,
  HardwareProfilesController,
} from './hardware-profiles/hardware-profiles.controller';
import { HardwareProfilesService } from './hardware-profiles/hardware-profiles.service';
import { ImageMappingsController } from './image-mappings/image-mappings.controller';
import { ImageMappingsService } from './image-mappings/image-mappings.service';
import { ImagesController } from './images/images.controller';
import { ImagesService } from './images/images.service';
import { PoolFamiliesController } from './pool-families/pool-families.controller';
import { PoolFamiliesService } from './pool-families/pool-families.service';
import { PoolsController } from './pools/pools.controller';
import { PoolsService } from './pools/pools.service';
import { ProjectsController } from './projects/projects.controller';
import { ProjectsService } from './projects/projects.service';
import { ProviderAccountsController } from './provider-accounts/provider-accounts.controller';
import { ProviderAccountsService } from './provider-accounts/provider-accounts.service';
import {
  ProviderProfilesController,
  ProvidersController,
  RealmsController,
} from './providers/providers.controller';
import { ProviderProfilesService, ProvidersService, RealmsService } from './providers/providers.service';
import { SecretsService } from './secrets/secrets.service';
import { InProcessTokens } from './tokens/in-process-tokens';
import { TokensController } from './tokens/tokens.controller';
import { TokensResponder } from './tokens/tokens.responder';
import { TokensService } from './tokens/tokens.service';

// Ownership of the broker configuration (DEVELOPING.md: project scoping):
// - global, admin-managed, readable by every token: providers, their provider profiles and realms;
// - project-owned (admins see all and must name `project` on create; member/viewer tokens see their
//   own project; another project's id answers 404): provider accounts, pool families, pools,
//   hardware profiles, images, image mappings, appliances and their implementations. Hardware
//   profiles and images are project-owned rather than global so that a project can name its own
//   sizes and images without an admin, and so that no project sees another's.
// - projects (admin writes; a scoped token sees its own) and tokens (a member mints member/viewer
//   tokens of its project; admin tokens have no project).

class ConfigApiLifecycle implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(CONFIG_API_DB) private readonly db: DataSource,
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay,
    private readonly health: HealthRegistry,
  ) {}
  onModuleInit(): void {
    this.health.register('config-api-db', async () => {
      await pingDatabase(this.db);
    });
  }
  onApplicationBootstrap(): void {
    this.relay.start();
  }
  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    if (this.db.isInitialized) await this.db.destroy();
  }
}

export interface ConfigApiModuleOptions {
  /** Set by the standalone app so its auth guard reads tokens from the database (see InProcessTokens). */
  inProcessTokens?: InProcessTokens;
}

/** The broker configuration store (ARCHITECTURE §2 and §4). */
@Module({})
export class ConfigApiModule {
  static forRoot(config: ConfigApiConfig, opts: ConfigApiModuleOptions = {}): DynamicModule {
    const extra: Provider[] = opts.inProcessTokens
      ? [{ provide: IN_PROCESS_TOKENS, useValue: opts.inProcessTokens }]
      : [];
    return {
      module: ConfigApiModule,
      controllers: [
        AppliancesResponder,
        BrokerConfigResponder,
        TokensResponder,
        ProjectsController,
        TokensController,
        ProvidersController,
        ProviderProfilesController,
        RealmsController,
        ProviderAccountsController,
        PoolFamiliesController,
        PoolsController,
        HardwareProfileMatchesController,
        HardwareProfilesController,
        ImagesController,
        ImageMappingsController,
        AppliancesController,
        ImplementationsController,
      ],
      providers: [
        ...extra,
        { provide: CONFIG_API_CONFIG, useValue: config },
        {
          provide: CONFIG_API_DB,
          useFactory: async () =>
            (
              await createAppDataSource({
                schema: CONFIG_API_SCHEMA,
                url: config.databaseUrl,
                entities: configApiEntities,
                migrations: configApiMigrations,
                poolSize: 4,
              })
            ).dataSource,
        },
        {
          provide: OUTBOX_RELAY,
          inject: [CONFIG_API_DB, BUS, LOGGER],
          useFactory: (db: DataSource, bus: Bus, logger: AppLogger) =>
            new OutboxRelay(new SqlOutboxStore(db, CONFIG_API_SCHEMA), bus, { logger }),
        },
        ResourceRepository,
        AppliancesRepository,
        HardwareProfilesRepository,
        PoolFamiliesRepository,
        ProjectsRepository,
        ProviderAccountsRepository,
        TokensRepository,
        ChangeRecorder,
        SecretsService,
        ProjectsService,
        TokensService,
        ProvidersService,
        ProviderProfilesService,
        RealmsService,
        ProviderAccountsService,
        PoolFamiliesService,
        PoolsService,
        HardwareProfilesService,
        ImagesService,
        ImageMappingsService,
        AppliancesService,
        ImplementationsService,
        BrokerConfigService,
        ConfigApiLifecycle,
      ],
    };
  }
}

import { DynamicModule, Inject, Injectable, Module, OnApplicationShutdown, Provider } from '@nestjs/common';
import { createEdgeConnection, EdgeConnection, LoggerLike } from '@nephele/bus';
import { AppLogger } from '@nephele/observability';
import { databaseProviders, HealthRegistry, LOGGER } from '@nephele/service-kit';
import { ClustersController } from './clusters/clusters.controller';
import { ClustersRepository } from './clusters/clusters.repository';
import { ClustersService } from './clusters/clusters.service';
import { CpeConfig } from './config/env';
import { CPE_CONFIG, CPE_DB, CPE_EDGE, CPE_EMBEDDED, CPE_OUTBOX, DPE_INLINE_HOST } from './cpe.tokens';
import { CPE_SCHEMA, cpeMigrations } from './data-source';
import { DeployablesController } from './deployables/deployables.controller';
import { DeployablesRepository } from './deployables/deployables.repository';
import { DeployablesService, SUPERVISOR_KICK } from './deployables/deployables.service';
import { AgentCredentials } from './deployables/agent-credentials';
import { PoolCheck } from './deployables/pool-check';
import { StopSequence } from './deployables/stop-sequence';
import { DpeLinkConsumer } from './dpe/dpe-link.consumer';
import { DpeInlineHost } from './dpe/inline.runtime';
import { SupervisorService } from './dpe/supervisor.service';
import { ManagementService } from './management/management.service';

export interface CpeModuleOptions {
  config: CpeConfig;
  /** The edge to serve `nephele.cpe` on (default: RabbitMQ's AMQP 1.0 plugin at AMQP10_URL, if set). */
  edge?: () => EdgeConnection;
  /** The in-process DPE host of the `inline` runtime (all-in-one). */
  inlineHost?: () => DpeInlineHost;
}

@Injectable()
class EdgeLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(CPE_EDGE) private readonly edge: EdgeConnection | null,
    private readonly health: HealthRegistry,
  ) {
    if (edge) {
      health.register('cpe-edge', async () => {
        if (!edge.isConnected()) throw new Error('AMQP 1.0 edge not connected');
      });
    }
  }
  async onApplicationShutdown(): Promise<void> {
    await this.edge?.close().catch(() => undefined);
  }
}

/** The Cloud Policy Engine: deployables, their DPEs, the management interface (ARCHITECTURE §5). */
@Module({})
export class CpeModule {
  static forRoot(opts: CpeModuleOptions): DynamicModule {
    const { config } = opts;
    const edgeProvider: Provider = {
      provide: CPE_EDGE,
      inject: [LOGGER],
      useFactory: async (log: AppLogger) => {
        const edge =
          opts.edge?.() ??
          (config.amqp10Url
            ? createEdgeConnection({
                mode: 'broker',
                url: config.amqp10Url,
                id: `cpe-${process.pid}`,
                logger: log as LoggerLike,
              })
            : null);
        if (edge) await edge.start();
        return edge;
      },
    };
    return {
      module: CpeModule,
      controllers: [DeployablesController, ClustersController],
      providers: [
        { provide: CPE_CONFIG, useValue: config },
        ...databaseProviders(
          'cloud-policy-engine',
          { db: CPE_DB, embedded: CPE_EMBEDDED, outbox: CPE_OUTBOX },
          { schema: CPE_SCHEMA, url: config.databaseUrl, migrations: cpeMigrations, poolSize: 8 },
        ),
        edgeProvider,
        ...(opts.inlineHost ? [{ provide: DPE_INLINE_HOST, useFactory: opts.inlineHost }] : []),
        EdgeLifecycle,
        DeployablesRepository,
        SupervisorService,
        { provide: SUPERVISOR_KICK, useExisting: SupervisorService },
        PoolCheck,
        StopSequence,
        AgentCredentials,
        DeployablesService,
        DpeLinkConsumer,
        ClustersRepository,
        ClustersService,
        ManagementService,
      ],
      exports: [DeployablesService, DeployablesRepository, SupervisorService, AgentCredentials],
    };
  }
}

import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { BrokerConfigSnapshot } from '@nephele/broker';
import { Bus } from '@nephele/bus';
import {
  AccountCredentials,
  AccountCredentialsData,
  ConfigExport,
  ConfigExportData,
  ProjectResolve,
  ProjectResolveData,
} from '@nephele/contracts';
import { BUS } from '@nephele/service-kit';
import { ProviderAccountsService } from '../provider-accounts/provider-accounts.service';
import { ProjectsService } from '../projects/projects.service';
import { BrokerConfigService } from './broker-config.service';

export const CONFIG_EXPORT_QUEUE = 'config-api.export';
export const ACCOUNT_CREDENTIALS_QUEUE = 'config-api.account-credentials';
export const PROJECT_RESOLVE_QUEUE = 'config-api.project-resolve';

/**
 * Bus requests of the iaas-gateway (request/reply on `nephele.commands`):
 * - `nephele.config.export` `{project?}` → `BrokerConfigSnapshot` (no credentials);
 * - `nephele.config.account.credentials` `{accountId}` → `{accountId, providerId, credentials}`,
 *   decrypted;
 * - `nephele.config.project.resolve` `{project}` → `{id, name}` or null. The credentials reply is never logged; an unknown account or a missing master key answers an error.
 */
@Injectable()
export class BrokerConfigResponder implements OnApplicationBootstrap {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly config: BrokerConfigService,
    private readonly accounts: ProviderAccountsService,
    private readonly projects: ProjectsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(
      CONFIG_EXPORT_QUEUE,
      [ConfigExport.type],
      async (e): Promise<BrokerConfigSnapshot> =>
        this.config.snapshot((e.data as ConfigExportData | undefined)?.project),
    );
    await this.bus.respond(PROJECT_RESOLVE_QUEUE, [ProjectResolve.type], async (e) =>
      this.projects.resolve((e.data as ProjectResolveData).project),
    );
    await this.bus.respond(ACCOUNT_CREDENTIALS_QUEUE, [AccountCredentials.type], async (e) => {
      try {
        return await this.accounts.credentials((e.data as AccountCredentialsData).accountId);
      } catch (err) {
        // A ProblemException (503: no master key) carries its reason in the response body.
        const detail = (err as { getResponse?: () => { detail?: string } }).getResponse?.().detail;
        throw new Error(detail ?? (err as Error).message);
      }
    });
  }
}

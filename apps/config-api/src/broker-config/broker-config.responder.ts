import { BrokerConfigSnapshot } from '@nephele/broker';
import {
  AccountCredentials,
  AccountCredentialsData,
  CloudEvent,
  ConfigExport,
  ConfigExportData,
  ProjectResolve,
  ProjectResolveData,
  Topology,
} from '@nephele/contracts';
import { BusConsumer, MessagePattern } from '@nephele/service-kit';
import { ProviderAccountsService } from '../provider-accounts/provider-accounts.service';
import { ProjectsService } from '../projects/projects.service';
import { BrokerConfigService } from './broker-config.service';

/**
 * Bus requests of the iaas-gateway (request/reply on `nephele.commands`):
 * - `nephele.config.export` `{project?}` → `BrokerConfigSnapshot` (no credentials);
 * - `nephele.config.account.credentials` `{accountId}` → `{accountId, providerId, credentials}`,
 *   decrypted;
 * - `nephele.config.project.resolve` `{project}` → `{id, name}` or null. The credentials reply is never logged; an unknown account or a missing master key answers an error.
 */
@BusConsumer()
export class BrokerConfigResponder {
  constructor(
    private readonly config: BrokerConfigService,
    private readonly accounts: ProviderAccountsService,
    private readonly projects: ProjectsService,
  ) {}

  @MessagePattern(ConfigExport.type, { queue: Topology.queues.configExport })
  async export(e: CloudEvent<ConfigExportData | undefined>): Promise<BrokerConfigSnapshot> {
    return this.config.snapshot(e.data?.project);
  }

  @MessagePattern(ProjectResolve.type, { queue: Topology.queues.configProjectResolve })
  async resolveProject(e: CloudEvent<ProjectResolveData>): Promise<unknown> {
    return this.projects.resolve(e.data!.project);
  }

  @MessagePattern(AccountCredentials.type, { queue: Topology.queues.configAccountCredentials })
  async credentials(e: CloudEvent<AccountCredentialsData>): Promise<unknown> {
    try {
      return await this.accounts.credentials(e.data!.accountId);
    } catch (err) {
      // A ProblemException (503: no master key) carries its reason in the response body.
      const detail = (err as { getResponse?: () => { detail?: string } }).getResponse?.().detail;
      throw new Error(detail ?? (err as Error).message);
    }
  }
}

import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Bus } from '@nephele/bus';
import { AccountCredentials, createEvent } from '@nephele/contracts';
import { CloudDriver, createDriver } from '@nephele/drivers';
import { BUS } from '@nephele/service-kit';
import { BrokerConfigService } from '../config-cache/broker-config.service';
import { SERVICE } from '../gateway.tokens';

/**
 * One driver per provider account, made on first use from the provider's kind and options and the
 * account's credentials (asked from the config-api over the bus; kept in memory only). A config
 * change drops the pool so the next call uses the new settings.
 */
@Injectable()
export class DriverPoolService implements OnApplicationShutdown {
  private readonly drivers = new Map<string, Promise<CloudDriver>>();

  constructor(
    private readonly config: BrokerConfigService,
    @Inject(BUS) private readonly bus: Bus,
  ) {
    config.onInvalidate(() => void this.reset());
  }

  async forAccount(accountId: string): Promise<CloudDriver> {
    let d = this.drivers.get(accountId);
    if (!d) {
      d = this.make(accountId);
      this.drivers.set(accountId, d);
      d.catch(() => this.drivers.delete(accountId));
    }
    return d;
  }

  private async make(accountId: string): Promise<CloudDriver> {
    const snapshot = await this.config.get();
    const account = snapshot.providerAccounts.find((a) => a.id === accountId);
    if (!account) throw new Error(`provider account ${accountId} not found`);
    const provider = snapshot.providers.find((p) => p.id === account.providerId);
    if (!provider) throw new Error(`provider ${account.providerId} not found`);
    const creds = account.hasCredentials
      ? await this.bus.request<{ credentials: Record<string, unknown> | null }>(
          createEvent(SERVICE, AccountCredentials.type, { accountId }),
          { timeoutMs: 10_000 },
        )
      : { credentials: null };
    // The provider's endpoint and region are the driver's defaults (OpenStack: the Keystone URL);
    // its options may refine them.
    const defaults: Record<string, unknown> = {};
    if (provider.endpoint)
      Object.assign(defaults, { authUrl: provider.endpoint, endpoint: provider.endpoint });
    if (provider.region) defaults.region = provider.region;
    return createDriver(provider.kind, { ...defaults, ...provider.options }, creds.credentials ?? {}, {
      providerId: provider.id,
    });
  }

  async reset(): Promise<void> {
    const old = [...this.drivers.values()];
    this.drivers.clear();
    await Promise.all(old.map((d) => d.then((x) => x.close()).catch(() => undefined)));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.reset();
  }
}

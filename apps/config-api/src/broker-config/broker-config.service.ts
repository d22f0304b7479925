import { Injectable } from '@nestjs/common';
import { BrokerConfigSnapshot } from '@nephele/broker';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService } from '../common/resource.service';
import { HardwareProfilesService } from '../hardware-profiles/hardware-profiles.service';
import { ImageMappingsService } from '../image-mappings/image-mappings.service';
import { ImagesService } from '../images/images.service';
import { PoolFamiliesService } from '../pool-families/pool-families.service';
import { PoolsService } from '../pools/pools.service';
import { ProviderAccountsService } from '../provider-accounts/provider-accounts.service';
import { ProviderProfilesService, ProvidersService, RealmsService } from '../providers/providers.service';

/** The broker configuration for the iaas-gateway: one consistent snapshot, never a secret. */
@Injectable()
export class BrokerConfigService {
  constructor(
    private readonly repo: ResourceRepository,
    private readonly providers: ProvidersService,
    private readonly profiles: ProviderProfilesService,
    private readonly realms: RealmsService,
    readonly accounts: ProviderAccountsService,
    private readonly families: PoolFamiliesService,
    private readonly pools: PoolsService,
    private readonly hardware: HardwareProfilesService,
    private readonly images: ImagesService,
    private readonly mappings: ImageMappingsService,
  ) {}

  async snapshot(project?: string): Promise<BrokerConfigSnapshot> {
    // One REPEATABLE READ transaction: every list sees the same committed state.
    return this.repo.transaction(async (tx) => {
      const all = async <T>(svc: ResourceService): Promise<T[]> => {
        const scoped = svc.spec.scope === 'project' ? project : undefined;
        const rows = await this.repo.list(tx, svc.spec, { project: scoped, filters: [] });
        return rows.map((r) => svc.toApi(r) as unknown as T);
      };
      return {
        generatedAt: new Date().toISOString(),
        providers: await all(this.providers),
        providerProfiles: await all(this.profiles),
        realms: await all(this.realms),
        providerAccounts: await all(this.accounts),
        poolFamilies: await all(this.families),
        pools: await all(this.pools),
        hardwareProfiles: await all(this.hardware),
        images: await all(this.images),
        imageMappings: await all(this.mappings),
      };
    }, 'REPEATABLE READ');
  }
}

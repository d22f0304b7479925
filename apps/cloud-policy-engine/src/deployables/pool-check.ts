import { Inject, Injectable } from '@nestjs/common';
import { Bus, LoggerLike } from '@nephele/bus';
import { ConfigExport, createEvent, DeployableDocument, FieldError } from '@nephele/contracts';
import { AppLogger } from '@nephele/observability';
import { BUS, LOGGER, ProblemException } from '@nephele/service-kit';
import { SERVICE } from '../cpe.tokens';

interface Named {
  id: string;
  name: string;
  project: string;
}
interface Snapshot {
  pools: (Named & { enabled: boolean })[];
  images: Named[];
  hardwareProfiles: Named[];
}

/**
 * Refuses (422) a deployable whose pool, images or hardware profiles the pool's configuration
 * already says do not exist — the gateway would refuse every launch, and the deployable would only
 * say `starting` for ever. The same lookup as the gateway's (by id or name, in the pool's project).
 * When the configuration cannot be read (config-api down), the deployable is accepted: the DPE
 * reports the launch failure as a condition then.
 */
@Injectable()
export class PoolCheck {
  private readonly log: LoggerLike;

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(LOGGER) log: AppLogger,
  ) {
    this.log = log;
  }

  async check(doc: DeployableDocument, project: string): Promise<void> {
    let snap: Snapshot;
    try {
      snap = await this.bus.request<Snapshot>(createEvent(SERVICE, ConfigExport.type, { project }), {
        timeoutMs: 5000,
      });
    } catch (e) {
      this.log.warn(
        { err: (e as Error).message },
        'cannot read the pool configuration; deployable not checked',
      );
      return;
    }
    if (!snap?.pools) return;
    const find = <T extends Named>(items: T[], ref: string, inProject: string) =>
      items.find((x) => (x.id === ref || x.name === ref) && x.project === inProject);
    const errors: FieldError[] = [];
    const pool = find(snap.pools, doc.pool, project);
    if (!pool) {
      errors.push({ field: 'pool', message: `unknown pool ${doc.pool} in this project` });
    } else {
      // `default` is the XML format's placeholder ("the pool's defaults"): not checked here.
      doc.assemblies.forEach((a, i) => {
        if (a.image !== 'default' && !find(snap.images ?? [], a.image, pool.project))
          errors.push({
            field: `assemblies[${i}].image`,
            message: `unknown image ${a.image} in pool ${pool.name}`,
          });
        if (
          a.hardwareProfile !== 'default' &&
          !find(snap.hardwareProfiles ?? [], a.hardwareProfile, pool.project)
        )
          errors.push({
            field: `assemblies[${i}].hardwareProfile`,
            message: `unknown hardware profile ${a.hardwareProfile} in pool ${pool.name}`,
          });
      });
    }
    if (errors.length)
      throw new ProblemException(
        422,
        `the pool's configuration cannot run this deployable: ${[...new Set(errors.map((e) => e.message))].join('; ')}`,
        {
          errors,
        },
      );
  }
}

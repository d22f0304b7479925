import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { createLoadBalancerDriver, LoadBalancerDriver } from '@nephele/drivers';
import { ScalerConfig } from '../config/env';
import { SCALER_CONFIG } from '../scaler.tokens';

export interface ConfiguredBalancer {
  id: string;
  driver: LoadBalancerDriver;
  defaultBackend?: string;
}

/** The load balancers operators configured (SCALER_LOAD_BALANCERS), by id. */
@Injectable()
export class LoadBalancerRegistry implements OnApplicationShutdown {
  private readonly byId = new Map<string, ConfiguredBalancer>();

  constructor(@Inject(SCALER_CONFIG) config: ScalerConfig) {
    for (const lb of config.loadBalancers) {
      this.byId.set(lb.id, {
        id: lb.id,
        driver: createLoadBalancerDriver(lb.kind, lb.driver),
        defaultBackend: lb.backend,
      });
    }
  }

  ids(): ReadonlySet<string> {
    return new Set(this.byId.keys());
  }

  get(id: string): ConfiguredBalancer | undefined {
    return this.byId.get(id);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.byId.values()].map((b) => b.driver.close().catch(() => undefined)));
  }
}

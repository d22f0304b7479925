import { ServiceClass } from '@nephele/contracts';
import { LsbAdapter } from './lsb.adapter';
import { OcfAdapter } from './ocf.adapter';
import { ProcessAdapter, UnexpectedExit } from './process.adapter';
import { ServiceAdapter } from './service-adapter.types';
import { SystemdAdapter } from './systemd.adapter';

export interface ServiceAdapters {
  byClass: Record<ServiceClass, ServiceAdapter>;
  process: ProcessAdapter;
}

/** One adapter per service class. */
export function createServiceAdapters(opts: {
  ocfRoot: string;
  lsbDir: string;
  onProcessExit: UnexpectedExit;
  /** Where process services are recorded, so a restarted agent adopts them (optional). */
  stateDir?: string;
}): ServiceAdapters {
  const process = new ProcessAdapter(opts.onProcessExit, opts.stateDir);
  return {
    process,
    byClass: {
      process,
      systemd: new SystemdAdapter(),
      lsb: new LsbAdapter(opts.lsbDir),
      ocf: new OcfAdapter(opts.ocfRoot),
    },
  };
}

import type { Clock, CloudDriver } from './cloud-driver.types';
import { systemClock } from './cloud-driver.types';
import { PermanentDriverError } from './driver.errors';
import { Ec2Driver, parseEc2Credentials, parseEc2DriverConfig } from './ec2/ec2.driver';
import { LocalDriver, parseLocalDriverConfig } from './local/local.driver';
import { parseQemuDriverConfig, QemuDriver } from './qemu/qemu.driver';
import {
  OpenStackDriver,
  parseOpenStackCredentials,
  parseOpenStackDriverConfig,
} from './openstack/openstack.driver';
import { SimulatedDriver, parseSimulatedDriverConfig } from './simulated/simulated.driver';

/** What the host (gateway, state tracker) hands every driver besides its config. */
export interface DriverContext {
  /** The provider's id (names the local driver's state dir). */
  providerId?: string;
  /** Injected time (the simulated driver, token expiry). Default: the wall clock. */
  clock?: Clock;
  /**
   * Where drivers that keep state put it (the local driver: `<dataDir>/local-driver/<providerId>`).
   * Default: `$NEPHELE_DATA_DIR`, else `.nephele`.
   */
  dataDir?: string;
}

/** Builds a driver from a provider's config and a provider account's (decrypted) credentials. */
export type CloudDriverFactory = (
  config: unknown,
  credentials: unknown,
  context: DriverContext,
) => CloudDriver;

/** Driver kinds by name. */
export class DriverRegistry {
  private readonly factories = new Map<string, CloudDriverFactory>();

  /** Adds a kind; refuses to replace one silently. */
  register(kind: string, factory: CloudDriverFactory): this {
    if (this.factories.has(kind)) throw new Error(`driver kind ${kind} is already registered`);
    this.factories.set(kind, factory);
    return this;
  }

  has(kind: string): boolean {
    return this.factories.has(kind);
  }

  kinds(): string[] {
    return [...this.factories.keys()].sort();
  }

  /** A driver of `kind`; a `permanent` DriverError for an unknown kind or an invalid config. */
  create(kind: string, config: unknown, credentials: unknown, context: DriverContext = {}): CloudDriver {
    const factory = this.factories.get(kind);
    if (!factory)
      throw new PermanentDriverError(`unknown driver kind ${kind} (known: ${this.kinds().join(', ')})`, {
        code: 'UnknownDriverKind',
      });
    return factory(config, credentials, context);
  }
}

function defaultDataDir(context: DriverContext): string {
  // The one place the drivers look at the environment: the documented default of the data dir.
  return context.dataDir ?? process.env['NEPHELE_DATA_DIR'] ?? '.nephele';
}

/** A registry holding the built-in kinds: local, simulated, openstack, ec2, qemu. */
export function createDefaultDriverRegistry(): DriverRegistry {
  return new DriverRegistry()
    .register(
      'local',
      (config, _credentials, ctx) =>
        new LocalDriver(
          parseLocalDriverConfig(config, { providerId: ctx.providerId, dataDir: defaultDataDir(ctx) }),
        ),
    )
    .register(
      'simulated',
      (config, _credentials, ctx) =>
        new SimulatedDriver(parseSimulatedDriverConfig(config), ctx.clock ?? systemClock),
    )
    .register(
      'openstack',
      (config, credentials, ctx) =>
        new OpenStackDriver(
          parseOpenStackDriverConfig(config),
          parseOpenStackCredentials(credentials),
          ctx.clock ?? systemClock,
        ),
    )
    .register(
      'ec2',
      (config, credentials) => new Ec2Driver(parseEc2DriverConfig(config), parseEc2Credentials(credentials)),
    )
    .register(
      'qemu',
      (config, _credentials, ctx) =>
        new QemuDriver(
          parseQemuDriverConfig(config, { providerId: ctx.providerId, dataDir: defaultDataDir(ctx) }),
        ),
    );
}

/** The process-wide registry used by `createDriver`; add kinds with `registerDriverKind`. */
export const driverRegistry = createDefaultDriverRegistry();

/** A driver of a registered kind (built-ins: local, simulated, openstack, ec2). */
export function createDriver(
  kind: string,
  config: unknown,
  credentials: unknown,
  context: DriverContext = {},
): CloudDriver {
  return driverRegistry.create(kind, config, credentials, context);
}

/** Registers another driver kind in the process-wide registry. */
export function registerDriverKind(kind: string, factory: CloudDriverFactory): void {
  driverRegistry.register(kind, factory);
}

/** The kinds `createDriver` knows. */
export function driverKinds(): string[] {
  return driverRegistry.kinds();
}

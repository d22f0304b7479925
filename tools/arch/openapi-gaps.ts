// Counts, per REST service, the operations of its OpenAPI document (`/docs`) without a success
// schema, without a documented 4xx or with a request body without a schema (Note [OpenAPI
// responses]). No database or bus needed: `node tools/ts-run.js tools/arch/openapi-gaps.ts [-v]`
// (-v lists each gap); with --check (the lint tier, `npm run docs:check`) it fails on any.
import 'reflect-metadata';
import { DynamicModule, Type } from '@nestjs/common';
import { openApiGaps, openApiOf } from '@nephele/service-kit';
import { ConfigApiModule, loadConfigApiConfig } from '../../apps/config-api/src';
import { CpeModule, loadCpeConfig } from '../../apps/cloud-policy-engine/src';
import { IaasGatewayModule, loadGatewayConfig } from '../../apps/iaas-gateway/src';
import { StateTrackerModule, loadStateTrackerConfig } from '../../apps/state-tracker/src';
import { FeedPollerModule, loadFeedPollerConfig } from '../../apps/feed-poller/src';
import { EventLogModule, loadEventLogConfig } from '../../apps/event-log/src';
import { scalerControllers } from '../../apps/scaler/src/openapi';

const controllersOf = (mod: () => DynamicModule) => () => mod().controllers ?? [];
const services: [string, () => Type[]][] = [
  ['config-api', controllersOf(() => ConfigApiModule.forRoot(loadConfigApiConfig({})))],
  ['cloud-policy-engine', controllersOf(() => CpeModule.forRoot({ config: loadCpeConfig({}) }))],
  ['iaas-gateway', controllersOf(() => IaasGatewayModule.forRoot(loadGatewayConfig({})))],
  ['state-tracker', controllersOf(() => StateTrackerModule.forRoot(loadStateTrackerConfig({})))],
  ['feed-poller', controllersOf(() => FeedPollerModule.forRoot(loadFeedPollerConfig({})))],
  ['event-log', controllersOf(() => EventLogModule.forRoot(loadEventLogConfig({})))],
  ['scaler', () => scalerControllers],
];

/** Every service's operations and gaps. */
export async function serviceGaps(): Promise<{ name: string; operations: number; gaps: string[] }[]> {
  const out: { name: string; operations: number; gaps: string[] }[] = [];
  for (const [name, controllers] of services) {
    const doc = await openApiOf(name, controllers());
    const operations = Object.values(doc.paths).reduce(
      (n, item) => n + ['get', 'put', 'post', 'delete', 'patch'].filter((k) => k in item).length,
      0,
    );
    out.push({ name, operations, gaps: openApiGaps(doc) });
  }
  return out;
}

/** Prints each service's gaps; with `--check`, resolves 1 when any operation has one (the lint tier). */
async function main(): Promise<number> {
  const verbose = process.argv.includes('-v');
  const check = process.argv.includes('--check');
  const t0 = Date.now();
  const services = await serviceGaps();
  const total = services.reduce((n, s) => n + s.gaps.length, 0);
  if (check) {
    for (const s of services) for (const g of s.gaps) console.error(`OpenAPI ${s.name}: ${g}`);
    const ops = services.reduce((n, s) => n + s.operations, 0);
    console.log(
      `OpenAPI of ${services.length} services, ${ops} operations, ${total} without a request, success or 4xx schema (${Date.now() - t0} ms)`,
    );
    return total ? 1 : 0;
  }
  for (const { name, operations, gaps } of services) {
    const no2xx = gaps.filter((g) => g.includes('2xx')).length;
    const noBody = gaps.filter((g) => g.includes('request body')).length;
    const no4xx = gaps.length - no2xx - noBody;
    console.log(
      `${name}: ${operations} operations, ${no2xx} without a 2xx schema, ${no4xx} without a 4xx, ${noBody} with a body without a schema`,
    );
    if (verbose) for (const g of gaps) console.log(`  ${g}`);
  }
  return 0;
}

if (/openapi-gaps\.ts$/.test(process.argv[1] ?? '')) {
  // Nest's probe apps leave handles (timers of the bus stand-ins): exit once done.
  main().then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(e);
      process.exit(1);
    },
  );
}

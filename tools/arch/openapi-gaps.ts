// Counts, per REST service, the operations of its OpenAPI document (`/docs`) without a success
// schema or without a documented 4xx (Note [OpenAPI responses]). No database or bus needed:
// `node tools/ts-run.js tools/arch/openapi-gaps.ts [-v]` (-v lists each gap).
import 'reflect-metadata';
import { DynamicModule } from '@nestjs/common';
import { openApiGaps, openApiOf } from '@nephele/service-kit';
import { ConfigApiModule, loadConfigApiConfig } from '../../apps/config-api/src';
import { CpeModule, loadCpeConfig } from '../../apps/cloud-policy-engine/src';
import { IaasGatewayModule, loadGatewayConfig } from '../../apps/iaas-gateway/src';
import { StateTrackerModule, loadStateTrackerConfig } from '../../apps/state-tracker/src';
import { FeedPollerModule, loadFeedPollerConfig } from '../../apps/feed-poller/src';
import { EventLogModule, loadEventLogConfig } from '../../apps/event-log/src';

const services: [string, () => DynamicModule][] = [
  ['config-api', () => ConfigApiModule.forRoot(loadConfigApiConfig({}))],
  ['cloud-policy-engine', () => CpeModule.forRoot({ config: loadCpeConfig({}) })],
  ['iaas-gateway', () => IaasGatewayModule.forRoot(loadGatewayConfig({}))],
  ['state-tracker', () => StateTrackerModule.forRoot(loadStateTrackerConfig({}))],
  ['feed-poller', () => FeedPollerModule.forRoot(loadFeedPollerConfig({}))],
  ['event-log', () => EventLogModule.forRoot(loadEventLogConfig({}))],
];

async function main(): Promise<void> {
  const verbose = process.argv.includes('-v');
  for (const [name, mod] of services) {
    const doc = await openApiOf(name, mod().controllers ?? []);
    const ops = Object.values(doc.paths).reduce(
      (n, item) => n + ['get', 'put', 'post', 'delete', 'patch'].filter((k) => k in item).length,
      0,
    );
    const gaps = openApiGaps(doc);
    const no2xx = gaps.filter((g) => g.includes('2xx')).length;
    const no4xx = gaps.length - no2xx;
    console.log(`${name}: ${ops} operations, ${no2xx} without a 2xx schema, ${no4xx} without a 4xx`);
    if (verbose) for (const g of gaps) console.log(`  ${g}`);
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e);
    process.exit(1);
  },
);

import 'reflect-metadata';
import { createHttpApp } from '@nephele/service-kit';
import { StateTrackerAppModule } from './app.module';
import { loadStateTrackerConfig } from './config/env';

async function main(): Promise<void> {
  const config = loadStateTrackerConfig();
  const app = await createHttpApp(StateTrackerAppModule.forRoot(config), { title: 'Nephele state tracker' });
  await app.listen(config.port, '0.0.0.0');
  console.log(
    JSON.stringify({ level: 'info', service: 'state-tracker', msg: `listening on :${config.port}` }),
  );
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

import 'reflect-metadata';
import { createHttpApp } from '@nephele/service-kit';
import { EventLogAppModule } from './app.module';
import { loadEventLogConfig } from './config/env';

async function main(): Promise<void> {
  const config = loadEventLogConfig();
  const app = await createHttpApp(EventLogAppModule.forRoot(config), {
    title: 'Nephele event log',
    bodyLimit: '5mb',
  });
  await app.listen(config.port, '0.0.0.0');
  console.log(JSON.stringify({ level: 'info', service: 'event-log', msg: `listening on :${config.port}` }));
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

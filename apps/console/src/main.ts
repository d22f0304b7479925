import 'reflect-metadata';
import { createHttpApp } from '@nephele/service-kit';
import { ConsoleAppModule } from './app.module';
import { loadConsoleConfig } from './config/env';

async function main(): Promise<void> {
  const config = loadConsoleConfig();
  const app = await createHttpApp(ConsoleAppModule.forRoot(config), { title: 'Nephele console' });
  await app.listen(config.port, '0.0.0.0');
  console.log(
    JSON.stringify({
      level: 'info',
      service: 'console',
      msg: `listening on :${config.port}`,
      api: config.apiUrl || '(same origin)',
    }),
  );
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

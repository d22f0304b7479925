import 'reflect-metadata';
import { createHttpApp } from '@nephele/service-kit';
import { ConfigApiAppModule } from './app.module';
import { loadConfigApiConfig } from './config/env';
import { rotateMasterKeyCommand } from './secrets/rotate-master-key';

async function serve(): Promise<void> {
  const config = loadConfigApiConfig();
  const app = await createHttpApp(ConfigApiAppModule.forRoot(config), { title: 'Nephele config API' });
  await app.listen(config.port, '0.0.0.0');
  console.log(JSON.stringify({ level: 'info', service: 'config-api', msg: `listening on :${config.port}` }));
}

async function main(): Promise<void> {
  const command = process.argv[2];
  if (command === undefined || command === 'serve') return serve();
  if (command === 'rotate-master-key') {
    process.exitCode = await rotateMasterKeyCommand(loadConfigApiConfig());
    return;
  }
  console.error(`unknown command ${command}; use: serve (default) | rotate-master-key`);
  process.exitCode = 2;
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

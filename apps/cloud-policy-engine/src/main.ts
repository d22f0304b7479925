import 'reflect-metadata';
import { createHttpApp } from '@nephele/service-kit';
import { CpeAppModule } from './app.module';
import { loadCpeConfig } from './config/env';

async function main(): Promise<void> {
  const config = loadCpeConfig();
  const app = await createHttpApp(CpeAppModule.forRoot(config), {
    title: 'Nephele cloud policy engine',
    bodyLimit: '1mb',
  });
  await app.listen(config.port, '0.0.0.0');
  console.log(
    JSON.stringify({ level: 'info', service: 'cloud-policy-engine', msg: `listening on :${config.port}` }),
  );
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

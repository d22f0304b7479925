import 'reflect-metadata';
import { createHttpApp } from '@nephele/service-kit';
import { ScalerAppModule } from './app.module';
import { loadScalerConfig } from './config/env';

async function main(): Promise<void> {
  const config = loadScalerConfig();
  const app = await createHttpApp(ScalerAppModule.forRoot(config), { title: 'Nephele scaler' });
  await app.listen(config.port, '0.0.0.0');
  console.log(JSON.stringify({ level: 'info', service: 'scaler', msg: `listening on :${config.port}` }));
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

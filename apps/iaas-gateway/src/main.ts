import 'reflect-metadata';
import { createHttpApp } from '@nephele/service-kit';
import { IaasGatewayAppModule } from './app.module';
import { loadGatewayConfig } from './config/env';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const app = await createHttpApp(IaasGatewayAppModule.forRoot(config), {
    title: 'Nephele IaaS gateway (CIMI)',
  });
  await app.listen(config.port, '0.0.0.0');
  console.log(
    JSON.stringify({ level: 'info', service: 'iaas-gateway', msg: `listening on :${config.port}` }),
  );
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

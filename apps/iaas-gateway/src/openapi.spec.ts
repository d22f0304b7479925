import { openApiGaps, openApiOf } from '@nephele/service-kit';
import { loadGatewayConfig } from './config/env';
import { IaasGatewayModule } from './iaas-gateway.module';

describe('iaas-gateway OpenAPI', () => {
  it('documents a success schema and the problems of every CIMI operation and the agent bundle', async () => {
    const { controllers } = IaasGatewayModule.forRoot(loadGatewayConfig({}));
    const doc = await openApiOf('iaas-gateway', controllers!);
    // The OpenStack-compatible routes are OpenStack's APIs, left out of /docs on purpose.
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/cimi'))).toEqual(['/v1/agent-bundle']);
    expect(Object.keys(doc.paths).length).toBeGreaterThanOrEqual(9);
    expect(openApiGaps(doc)).toEqual([]);
  });
});

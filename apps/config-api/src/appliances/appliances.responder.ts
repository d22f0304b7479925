import { ApplianceResolve, ApplianceResolveData, CloudEvent, Topology } from '@nephele/contracts';
import { BusConsumer, MessagePattern } from '@nephele/service-kit';
import { NAME_PATTERN } from '../common/dto/common.dto';
import { AppliancesRepository } from './appliances.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Answers `nephele.config.appliance.resolve` for the CPE's clusters. */
@BusConsumer()
export class AppliancesResponder {
  constructor(private readonly appliances: AppliancesRepository) {}

  @MessagePattern(ApplianceResolve.type, { queue: Topology.queues.configAppliances })
  async onResolve(e: CloudEvent<ApplianceResolveData>): Promise<unknown> {
    return this.resolve(e.data!);
  }

  async resolve(d: ApplianceResolveData): Promise<unknown> {
    const project = d.project && UUID.test(d.project) ? d.project : null;
    if (d.project && !project) return null;
    // A name that no appliance can have (control characters, say) resolves to nothing rather
    // than reaching PostgreSQL, which rejects NUL bytes in text.
    if (typeof d.appliance !== 'string' || !NAME_PATTERN.test(d.appliance)) return null;
    const byId = UUID.test(d.appliance);
    const apps = await this.appliances.findAppliances(d.appliance, byId, project);
    if (apps.length !== 1) return null;
    const a = apps[0]!;
    if (d.implementation && !UUID.test(d.implementation)) return null;
    const i = await this.appliances.implementation(a.id, d.implementation ?? null);
    if (!i) return null;
    return {
      appliance: { id: a.id, name: a.name, project: a.project_id },
      implementation: {
        id: i.id,
        providerId: i.provider_id,
        templateVersion: i.template_version,
        templateFormat: i.template_format,
        template: i.template,
        parameters: i.parameters,
        outputs: i.outputs,
      },
    };
  }
}

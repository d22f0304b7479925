import { BrokerConfigSnapshot, PoolConfig } from '@nephele/broker';
import { ProblemException } from '@nephele/service-kit';
import { MachineCreateDto } from './dto/cimi.dto';

const last = (href: string | undefined) => href?.split('/').pop();

/**
 * The image and hardware profile (machine configuration) a MachineCreate asks for: from its template
 * href, or from its inline machineImage + machineConfig hrefs. 400 naming the field when one is
 * missing or not in this cloud (the pool's project).
 */
export function resolveMachineCreate(
  body: MachineCreateDto,
  templates: { id: string; machineImage: { href: string }; machineConfig: { href: string } }[],
  pool: PoolConfig,
  snapshot: BrokerConfigSnapshot,
): { imageId: string; configId: string } {
  const { imageId, configId } = body.machineTemplate.href
    ? fromTemplate(last(body.machineTemplate.href) ?? '', templates)
    : inline(body);
  if (!snapshot.images.some((i) => i.id === imageId && i.project === pool.project)) {
    throw ProblemException.badRequest('unknown machine image', [
      { field: 'machineTemplate.machineImage.href', message: `no image ${imageId} in this cloud` },
    ]);
  }
  if (!snapshot.hardwareProfiles.some((h) => h.id === configId && h.project === pool.project)) {
    throw ProblemException.badRequest('unknown machine configuration', [
      { field: 'machineTemplate.machineConfig.href', message: `no configuration ${configId} in this cloud` },
    ]);
  }
  return { imageId: imageId!, configId: configId! };
}

function fromTemplate(
  tid: string,
  templates: { id: string; machineImage: { href: string }; machineConfig: { href: string } }[],
): { imageId?: string; configId?: string } {
  const t = templates.find((x) => x.id.endsWith(`/${tid}`));
  if (!t)
    throw ProblemException.badRequest('unknown machine template', [
      { field: 'machineTemplate.href', message: `no template ${tid} in this cloud` },
    ]);
  return { imageId: last(t.machineImage.href), configId: last(t.machineConfig.href) };
}

function inline(body: MachineCreateDto): { imageId?: string; configId?: string } {
  const imageId = last(body.machineTemplate.machineImage?.href);
  const configId = last(body.machineTemplate.machineConfig?.href);
  const errors = [];
  if (!imageId)
    errors.push({
      field: 'machineTemplate.machineImage',
      message: 'a machineImage href (or a machineTemplate href) is required',
    });
  if (!configId)
    errors.push({
      field: 'machineTemplate.machineConfig',
      message: 'a machineConfig href (or a machineTemplate href) is required',
    });
  if (errors.length) throw ProblemException.badRequest('incomplete MachineCreate', errors);
  return { imageId, configId };
}

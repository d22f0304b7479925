import { Injectable } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { validateHot } from '@nephele/hot';
import { jsonDepthExceeds, ProblemException } from '@nephele/service-kit';
import { yamlDepth } from '@nephele/util';
import { ChangeRecorder } from '../common/change-recorder';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService, WriteContext } from '../common/resource.service';
import { Resource, Row } from '../common/resource.types';
import { APPLIANCE_IMPLEMENTATIONS, APPLIANCES } from './appliances.resource';

@Injectable()
export class AppliancesService extends ResourceService {
  constructor(repo: ResourceRepository, changes: ChangeRecorder) {
    super(repo, changes, APPLIANCES);
  }
}

function bad(field: string, message: string): ProblemException {
  return ProblemException.badRequest('validation failed', [{ field, message }]);
}

/** Checks a template and decides how it is stored: text as given (json/yaml) or an object as JSON. */
function prepareTemplate(ctx: WriteContext, values: Record<string, unknown>): void {
  const { template, templateFormat } = ctx.dto as { template?: unknown; templateFormat?: 'json' | 'yaml' };
  if (template === undefined) {
    if (templateFormat !== undefined)
      throw bad('templateFormat', 'templateFormat is given with a text template');
    return;
  }
  if (typeof template !== 'string') {
    if (templateFormat !== undefined)
      throw bad('templateFormat', 'templateFormat applies to a text template only');
    checkHot(template);
    values.template = JSON.stringify(template);
    values.template_format = 'object';
    return;
  }
  let format = templateFormat;
  if (format === undefined) {
    try {
      JSON.parse(template);
      format = 'json';
    } catch {
      format = 'yaml';
    }
  }
  // Templates are walked recursively when clusters are made from them: their nesting is bounded.
  if (format === 'json' ? jsonDepthExceeds(Buffer.from(template), 64) : yamlDepth(template, 64) > 64)
    throw bad('template', `${format.toUpperCase()} nested deeper than 64 levels`);
  let parsed: unknown;
  try {
    parsed = format === 'json' ? JSON.parse(template) : parseYaml(template);
  } catch (e) {
    throw bad('template', `not valid ${format.toUpperCase()}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw bad('template', `the ${format.toUpperCase()} template must be a mapping (an object) at the top`);
  }
  checkHot(parsed);
  values.template = template;
  values.template_format = format;
}

/** A HOT template (it has `heat_template_version`) must stay within the subset the OpenStack API serves. */
function checkHot(parsed: unknown): void {
  if (!parsed || typeof parsed !== 'object' || !('heat_template_version' in parsed)) return;
  const { errors } = validateHot(parsed);
  if (errors.length)
    throw ProblemException.badRequest(
      'the HOT template uses what is not supported',
      errors.map((e) => ({ field: `template.${e.field}`, message: e.message })),
    );
}

function uniqueNames(ctx: WriteContext, field: 'parameters' | 'outputs'): void {
  const list = ctx.dto[field] as { name: string }[] | undefined;
  const seen = new Set<string>();
  list?.forEach((x, i) => {
    if (seen.has(x.name)) throw bad(`${field}[${i}].name`, `${x.name} is declared twice`);
    seen.add(x.name);
  });
}

@Injectable()
export class ImplementationsService extends ResourceService {
  constructor(repo: ResourceRepository, changes: ChangeRecorder) {
    super(repo, changes, APPLIANCE_IMPLEMENTATIONS, {
      prepare: (ctx, values) => {
        prepareTemplate(ctx, values);
        uniqueNames(ctx, 'parameters');
        uniqueNames(ctx, 'outputs');
      },
    });
  }

  /** An object template is returned as the object it was given as. */
  override toApi(row: Row): Resource {
    const r = super.toApi(row);
    if (r.templateFormat === 'object' && typeof r.template === 'string') r.template = JSON.parse(r.template);
    return r;
  }
}

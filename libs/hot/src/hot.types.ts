/** A HOT (Heat Orchestration Template) document, the subset Nephele serves. */
export interface HotTemplate {
  heat_template_version: string;
  description?: string;
  parameter_groups?: unknown[];
  parameters: Record<string, HotParameter>;
  resources: Record<string, HotResource>;
  outputs: Record<string, HotOutput>;
}

export type HotParameterType = 'string' | 'number' | 'json' | 'comma_delimited_list' | 'boolean';

export interface HotConstraint {
  length?: { min?: number; max?: number };
  range?: { min?: number; max?: number };
  allowed_values?: unknown[];
  allowed_pattern?: string;
  custom_constraint?: string;
  description?: string;
}

export interface HotParameter {
  type: HotParameterType;
  label?: string;
  description?: string;
  default?: unknown;
  hidden?: boolean;
  constraints?: HotConstraint[];
}

export interface HotResource {
  type: string;
  properties?: Record<string, unknown>;
  depends_on?: string | string[];
  metadata?: Record<string, unknown>;
}

export interface HotOutput {
  description?: string;
  value: unknown;
}

/** A problem with a template or its parameters, with where it is (`resources.web.type`). */
export interface HotError {
  field: string;
  message: string;
}

/** What the intrinsic functions read while a stack is being built. */
export interface HotContext {
  /** Bound parameter values (after types and defaults). */
  params: Record<string, unknown>;
  /** Pseudo parameters: OS::stack_name, OS::stack_id, OS::project_id. */
  pseudo: Record<string, string>;
  /** `get_resource`: the resource's id (undefined while it does not exist). */
  ref(resource: string): unknown;
  /** `get_attr`: the attribute's value (undefined while unknown). */
  attr(resource: string, path: (string | number)[]): unknown;
}

/** A rendered Kubernetes object, as parsed from YAML. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

interface ValidatableModel {
  validate(): void;
}
type ModelClass = new (data: unknown) => ValidatableModel;

/**
 * Validates one object against the Kubernetes OpenAPI schema with kubernetes-models (offline):
 * instantiates the model class of its apiVersion/kind and runs its JSON-schema validation.
 * Throws when the apiVersion or kind is unknown, or the object does not match the schema.
 */
export async function validateKubeObject(obj: KubeObject): Promise<void> {
  const id = `${obj.kind}/${obj.metadata?.name} (${obj.apiVersion})`;
  let group: Record<string, unknown>;
  try {
    group = (await import(`kubernetes-models/${obj.apiVersion}`)) as Record<string, unknown>;
  } catch {
    throw new Error(`${id}: unknown apiVersion ${obj.apiVersion}`);
  }
  const Model = group[obj.kind] as ModelClass | undefined;
  if (typeof Model !== 'function') throw new Error(`${id}: unknown kind ${obj.kind} in ${obj.apiVersion}`);
  try {
    new Model(withUnwrappedBase64(obj)).validate();
  } catch (e) {
    throw new Error(`${id}: ${(e as Error).message}`);
  }
}

/**
 * kustomize wraps long base64 values of Secret `data` over several lines. The API server decodes
 * them (Go's base64 skips newlines); the schema's `byte` format does not, so unwrap them first.
 */
function withUnwrappedBase64(obj: KubeObject): KubeObject {
  const data = obj.data as Record<string, unknown> | undefined;
  if (obj.apiVersion !== 'v1' || obj.kind !== 'Secret' || !data) return obj;
  const unwrapped = Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/\s+/g, '') : v]),
  );
  return { ...obj, data: unwrapped };
}

interface AttributeType {
  baseName: string;
  type: string;
}
type ClientModel = { getAttributeTypeMap(): AttributeType[] };
type ClientModels = Record<string, unknown>;

/**
 * Fields the Kubernetes API does not know (a misspelt `readinessprobe` is silently dropped by the
 * API server, and kubernetes-models' schemas allow extra properties). Walks the object along
 * @kubernetes/client-node's model metadata; returns the JSON paths of unknown fields.
 */
export async function unknownFields(obj: KubeObject): Promise<string[]> {
  const models = (await import('@kubernetes/client-node')) as unknown as ClientModels;
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const root = `${version.charAt(0).toUpperCase()}${version.slice(1)}${obj.kind}`;
  if (!models[root])
    throw new Error(`no client model ${root} for ${obj.kind} in ${group || 'core'}/${version}`);
  const found: string[] = [];
  walk(models, obj, root, '', found);
  return found;
}

function walk(models: ClientModels, value: unknown, type: string, at: string, found: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(models, v, array[1], `${at}[${i}]`, found));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(models, v, map[1], `${at}.${k}`, found);
    }
    return;
  }
  const model = models[type] as Partial<ClientModel> | undefined;
  // Primitives, IntOrString, Date, free-form objects: nothing to check inside.
  if (typeof model?.getAttributeTypeMap !== 'function' || typeof value !== 'object') return;
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const t = attributes.get(k);
    if (t === undefined) found.push(`${at}.${k}`);
    else walk(models, v, t, `${at}.${k}`, found);
  }
}

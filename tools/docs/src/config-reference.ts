// docs/reference/configuration.md, generated from every app's env class (apps/*/src/config/env.ts,
// libs/service-kit's ServiceEnv) by reading their TypeScript source: the variable, its constraint
// (from the class-validator decorators), its default (the initializer) and its meaning (the JSDoc).
// A variable without JSDoc takes its meaning from FALLBACK_MEANINGS below; one with neither is
// reported by the generator (and listed as undocumented) so a new variable cannot slip in unseen.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ClassInfo, PropertyInfo, readClasses } from './ts-source.util';

/** Meanings of variables whose declaration carries no JSDoc (same variable, same meaning everywhere). */
export const FALLBACK_MEANINGS: Record<string, string> = {
  PORT: 'HTTP port: the REST API (if any), `/healthz`, `/readyz`, `/metrics` and `/docs`.',
  LOG_LEVEL: 'pino log level; logs are JSON lines on stdout, secrets redacted.',
  DATABASE_URL: 'PostgreSQL URL; unset → embedded PGlite under `NEPHELE_DATA_DIR`.',
  AMQP_URL: 'RabbitMQ URL (AMQP 0-9-1) of the core bus; unset → the in-process bus.',
  NEPHELE_BOOTSTRAP_TOKEN:
    'The first admin API token (accepted without a lookup). Other tokens are resolved by the config-api over the bus.',
  NEPHELE_MASTER_KEY:
    '32 bytes, base64 or hex, wrapping the data keys of stored secrets; all-in-one: generated at first start into `NEPHELE_DATA_DIR/master-key`.',
  NEPHELE_DATA_DIR:
    'Embedded database, local-driver state and the generated admin token and master key (default `./.nephele`).',
  NEPHELE_EDGE_HOST:
    'Address the AMQP 1.0 listener binds (loopback by default; anonymous peers are accepted there).',
  NEPHELE_ASSEMBLY_ID: 'The assembly this agent runs in (else from `NEPHELE_USER_DATA`).',
  NEPHELE_DEPLOYABLE_ID: 'The deployable of that assembly (else from `NEPHELE_USER_DATA`).',
  NEPHELE_AGENT_SECRET:
    'The agent’s SASL PLAIN password on the all-in-one listener (username = assembly id); else from `NEPHELE_USER_DATA`.',
  NEPHELE_USER_DATA:
    'The instance’s user data: JSON, or base64 of JSON, with the agent identity and edge URL.',
  NEPHELE_HEARTBEAT_INTERVAL:
    'Heartbeat period as a duration (`1s`, 50 ms–1 h); else from user data, else 5 s.',
  NEPHELE_OCF_ROOT: 'Root of the OCF resource agents (`resource.d/<provider>/<type>`).',
  NEPHELE_LSB_DIR: 'Directory of LSB init scripts.',
  DPE_IMAGE: 'kubernetes runtime: the container image of DPE worker pods.',
  DPE_BOOT_TIMEOUT_MS:
    'An assembly whose agent has not reported this long after its launch is treated as failed (the ladder replaces it).',
  KUBE_TOKEN: 'kubernetes runtime: bearer token for `KUBE_API_URL`.',
  NEPHELE_EDGE_TLS_KEY: 'The PEM private key of `NEPHELE_EDGE_TLS_CERT` (both or neither).',
  DPE_WORKER_ID: 'Name of this worker in logs and `nephele.dpe.*` events.',
  EVENT_LOG_BATCH_SIZE: 'Events written to the database in one batch (at most).',
  EVENT_LOG_BATCH_WAIT_MS: 'How long a batch waits to fill before it is written.',
  FEED_POLLER_HTTP_TIMEOUT_MS: 'Limit of one HTTP request to a feed.',
  SCALER_WEBHOOK_RATE: 'Refill of one capability URL’s token bucket, per second.',
  SCALER_WEBHOOK_GLOBAL_RATE: 'Refill of the shared token bucket of every capability URL, per second.',
  SCALER_WEBHOOK_RETRY_BASE_MS: 'First delay of the exponential backoff of customer webhook deliveries.',
  SCALER_WEBHOOK_TIMEOUT_MS: 'Limit of one customer webhook HTTP request.',
  NEPHELE_URL: 'API base URL (default `http://localhost:8080`); `--url` wins.',
  NEPHELE_TOKEN: 'API token; `--token` wins; never printed.',
  NEPHELE_PROJECT: 'Project to work in (name or id); `--project` wins.',
  NEPHELE_CONFIG:
    'The config file written by `nephele login` (default `$XDG_CONFIG_HOME/nephele/config.json`).',
  XDG_CONFIG_HOME: 'Base directory of the CLI config file when `NEPHELE_CONFIG` is unset.',
  HOME: 'Used for `~/.config` when neither `NEPHELE_CONFIG` nor `XDG_CONFIG_HOME` is set.',
};

export interface EnvVariable {
  name: string;
  constraint: string;
  default: string;
  meaning: string;
  /** The class that declares it (ServiceEnv for inherited ones). */
  declaredIn: string;
  documented: boolean;
}

export interface AppEnv {
  app: string;
  className: string;
  doc: string;
  file: string;
  variables: EnvVariable[];
}

const list = (v: unknown): string => (Array.isArray(v) ? v.map((x) => `\`${String(x)}\``).join(', ') : '');

/** A human reading of a property's class-validator decorators. */
export function constraintOf(p: PropertyInfo): string {
  const d = new Map(p.decorators.map((x) => [x.name, x]));
  const num = (n: string) =>
    typeof d.get(n)?.values[0] === 'number' ? (d.get(n)!.values[0] as number) : undefined;
  const min = num('Min');
  const max = num('Max');
  const range =
    min !== undefined && max !== undefined
      ? ` ${min}–${max}`
      : min !== undefined
        ? ` ≥ ${min}`
        : max !== undefined
          ? ` ≤ ${max}`
          : '';
  if (d.has('IsIn')) return `one of ${list(d.get('IsIn')!.values[0]) || d.get('IsIn')!.args[0]}`;
  if (d.has('IsInt')) return `integer${range}`;
  if (d.has('IsNumber')) return `number${range}`;
  if (d.has('IsBoolean')) return 'boolean (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`)';
  if (d.has('IsUrl')) return 'URL';
  if (d.has('Matches')) {
    const m = d.get('Matches')!;
    return `string matching \`${m.args[0]}\``;
  }
  if (d.has('MaxLength')) return `string (≤ ${num('MaxLength')} chars)`;
  if (d.has('IsString')) return 'string';
  return p.type || typeof p.value;
}

/** The default as an operator reads it. */
export function defaultOf(p: PropertyInfo): string {
  if (p.initializer === undefined || p.initializer === 'undefined') return 'unset';
  if (p.value === '') return '`""` (empty)';
  if (p.value !== undefined) return `\`${String(p.value)}\``;
  return `\`${p.initializer}\``;
}

function variablesOf(cls: ClassInfo, classes: Map<string, ClassInfo>): EnvVariable[] {
  const own = cls.properties.map((p): EnvVariable => ({
    name: p.name,
    constraint: constraintOf(p),
    default: defaultOf(p),
    meaning: p.doc || FALLBACK_MEANINGS[p.name] || '',
    declaredIn: cls.name,
    documented: !!(p.doc || FALLBACK_MEANINGS[p.name]),
  }));
  const base = cls.extends ? classes.get(cls.extends) : undefined;
  if (!base) return own;
  const inherited = variablesOf(base, classes).filter((v) => !own.some((o) => o.name === v.name));
  return [...own, ...inherited];
}

/** Every app's env class, read from source under `root`. */
export function readAppEnvs(root: string): AppEnv[] {
  const appsDir = path.join(root, 'apps');
  const files = readdirSync(appsDir)
    .sort()
    .map((a) => path.join(appsDir, a, 'src/config/env.ts'))
    .filter((f) => existsSync(f));
  // Base classes an env class may extend: ServiceEnv, and any env class a library declares.
  const bases = readdirSync(path.join(root, 'libs'))
    .sort()
    .flatMap((lib) => {
      const dir = path.join(root, 'libs', lib, 'src');
      return existsSync(dir)
        ? readdirSync(dir, { recursive: true, encoding: 'utf8' })
            .sort()
            .map((f) => path.join(dir, f))
        : [];
    })
    .filter(
      (f) => /(^|[-./])env[^/]*\.ts$/.test(path.basename(f)) && !/\.(spec|int-spec|e2e-spec|d)\.ts$/.test(f),
    );
  const classes = readClasses([...bases, ...files]);
  const out: AppEnv[] = [];
  for (const f of files) {
    const app = path.basename(path.dirname(path.dirname(path.dirname(f))));
    for (const c of classes.values()) {
      if (c.file !== f || !c.name.endsWith('Env')) continue;
      out.push({
        app,
        className: c.name,
        doc: c.doc,
        file: path.relative(root, f),
        variables: variablesOf(c, classes),
      });
    }
  }
  return out;
}

/** The CLI's variables (the `CliEnv` interface of apps/cli). */
export function readCliEnv(root: string): EnvVariable[] {
  const f = path.join(root, 'apps/cli/src/config/cli-config.ts');
  if (!existsSync(f)) return [];
  const c = readClasses([f]).get('CliEnv');
  return (c?.properties ?? []).map((p) => ({
    name: p.name,
    constraint: 'string',
    default: 'unset',
    meaning: p.doc || FALLBACK_MEANINGS[p.name] || '',
    declaredIn: 'CliEnv',
    documented: !!(p.doc || FALLBACK_MEANINGS[p.name]),
  }));
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(vars: EnvVariable[]): string[] {
  return [
    '| variable | accepted values | default | meaning |',
    '|---|---|---|---|',
    ...vars.map(
      (v) =>
        `| \`${v.name}\` | ${cell(v.constraint)} | ${cell(v.default)} | ${cell(v.meaning || '*(undocumented)*')}${v.declaredIn === 'ServiceEnv' ? ' *(every service)*' : ''} |`,
    ),
  ];
}

export function renderConfigReference(apps: AppEnv[], cli: EnvVariable[]): string {
  const lines = [
    '<!-- GENERATED by `npm run docs:generate` from apps/*/src/config/env.ts and libs/service-kit/src/env.ts. Do not edit: change the env classes and regenerate. -->',
    '',
    '# Configuration reference',
    '',
    'Every service reads its environment once, at start, through one class-validator class',
    '(`apps/<app>/src/config/env.ts`, most extending `ServiceEnv` from `libs/service-kit`), and refuses',
    'to start with one line per bad variable. Numbers and booleans are converted by the type of the',
    'default; an empty value counts as unset. Nothing else reads `process.env`.',
    '',
    'The all-in-one (`nephele`) hands its own environment to every service module it hosts, so the',
    'variables of config-api, event-log, state-tracker, iaas-gateway, scaler and feed-poller apply to it',
    'as well (it lowers `TRACKER_POLL_MS` to 2000, `TRACKER_FAST_POLL_MS` to 300 and',
    '`GATEWAY_CONFIG_TTL_MS` to 5000 unless they are set, and always runs the CPE with',
    '`CPE_RUNTIME=inline`).',
    '',
    '## Contents',
    '',
    ...apps.map((a) => `- [${a.app}](#${a.app}) — \`${a.className}\``),
    '- [cli](#cli) — `CliEnv`',
    '',
  ];
  for (const a of apps) {
    lines.push(`## ${a.app}`, '');
    lines.push(`\`${a.className}\` in [\`${a.file}\`](../../${a.file}).${a.doc ? ` ${a.doc}` : ''}`, '');
    lines.push(...table(a.variables), '');
  }
  lines.push('## cli', '');
  lines.push(
    'The `nephele` command line reads these (`CliEnv` in [`apps/cli/src/config/cli-config.ts`](../../apps/cli/src/config/cli-config.ts)); flags win over the environment, which wins over the config file.',
    '',
  );
  lines.push(...table(cli), '');
  return lines.join('\n');
}

/** Variables with no meaning anywhere (reported by the generator). */
export function undocumented(apps: AppEnv[], cli: EnvVariable[]): string[] {
  return [
    ...apps.flatMap((a) => a.variables.filter((v) => !v.documented).map((v) => `${a.app}: ${v.name}`)),
    ...cli.filter((v) => !v.documented).map((v) => `cli: ${v.name}`),
  ];
}

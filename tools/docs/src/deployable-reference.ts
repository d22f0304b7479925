// docs/reference/deployable-format.md, generated from the CPE's parser: the field table of Nephele
// YAML/JSON comes from DeployableManifestDto's validation metadata, the examples are examples/
// verbatim, and each example is parsed by parseDeployable so a reference whose example the parser
// refuses cannot be generated.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Loader } from './cli-reference';
import { Describe, fieldRows, fieldTable } from './schema.util';
import { propertyDocs } from './ts-source.util';

/** Meanings of manifest fields whose DTO property has no JSDoc. */
export const MANIFEST_MEANINGS: Record<string, string> = {
  'DeployableManifestDto.apiVersion': 'Optional marker of the format.',
  'DeployableManifestDto.kind': 'Optional marker of the format.',
  'DeployableManifestDto.name':
    'The deployable’s name, unique in its project; `nephele deployable apply` updates by name.',
  'DeployableManifestDto.pool': 'The pool its assemblies are launched in (default `default`).',
  'DeployableManifestDto.monitor': 'How the DPE watches the agents’ heartbeats.',
  'DeployableManifestDto.assemblies':
    'The assemblies: each one instance running the agent (Pacemaker: a node).',
  'DeployableManifestDto.constraints': 'Ordering, colocation and location constraints between services.',
  'DeployableManifestDto.recovery':
    'Recovery budgets of the whole deployable: the defaults of its services and assemblies.',
  'RecoveryDto.escalation': 'Default restarts per service within a period (default 3 within 10 min).',
  'RecoveryDto.assemblyEscalation':
    'Default replacements per assembly within a period (default 3 within 30 min).',
  'RecoveryDto.moves': 'Moves per service within its escalation period (default 3).',
  'RecoveryDto.launchAttempts': 'Launch attempts per assembly in a row (default 5).',
  'RecoveryDto.backoff': 'Back-off between two attempts at the same rung (default 1 s doubling up to 60 s).',
  'ServiceDto.backoff': 'This service’s back-off between recovery attempts (default: the deployable’s).',
  'ServiceDto.startTimeout': 'Limit of a start, including its checks passing (duration; default 20 s).',
  'ServiceDto.stopTimeout': 'Limit of a stop (duration).',
  'DeployableMonitorDto.heartbeatInterval': 'How often agents heartbeat (duration; default 1 s).',
  'DeployableMonitorDto.missedHeartbeats':
    'An assembly is failed after this many missed heartbeats (default 3).',
  'AssemblyDto.name': 'Unique in the deployable.',
  'AssemblyDto.image': 'An image name of the pool (mapped to a provider image by the iaas-gateway).',
  'AssemblyDto.hardwareProfile': 'A hardware profile name (matched to the provider’s profiles).',
  'AssemblyDto.escalation':
    'How often the assembly may be replaced within a period before the deployable is `failed`.',
  'AssemblyDto.services': 'The services the agent runs on this assembly (Pacemaker: primitives).',
  'ServiceDto.name': 'Unique in its assembly; constraints write `<assembly>/<service>`.',
  'ServiceDto.class':
    'How the agent runs it: a process it supervises, a systemd unit, an LSB init script or an OCF resource agent.',
  'ServiceDto.provider':
    '`ocf`: the provider directory under `resource.d` (e.g. `heartbeat`); required for ocf.',
  'ServiceDto.type':
    '`ocf`: the resource agent; `lsb`: the init script; `systemd`: the unit. Required except for `process`.',
  'ServiceDto.command': '`process`: the command line as an argument vector (no shell); required for process.',
  'ServiceDto.monitor': 'The recurring monitor (default every 10 s, timeout 5 s).',
  'ServiceDto.escalation':
    'Failures within a period before the service is moved instead of restarted in place (Pacemaker: migration-threshold / failure-timeout).',
  'ServiceDto.placement': 'The assemblies this service may run on (default: its own).',
  'ServiceDto.priority': 'Pacemaker priority: higher-priority services are placed first.',
  'ServiceDto.enabled': '`false` keeps the service stopped (Pacemaker: target-role Stopped).',
  'ServiceMonitorDto.interval': 'Period of the monitor (duration).',
  'ServiceMonitorDto.timeout': 'Limit of one monitor (duration).',
  'ServiceMonitorDto.http': '`process`: also GET `http://127.0.0.1:<port><path>`; healthy on 2xx/3xx.',
  'ServiceMonitorDto.tcp': '`process`: also require `127.0.0.1:<port>` to accept connections.',
  'HttpCheckDto.port': 'TCP port on the assembly.',
  'HttpCheckDto.path': 'Path of the request (default `/`).',
  'TcpCheckDto.port': 'TCP port on the assembly.',
  'EscalationDto.failures': 'Failures counted…',
  'EscalationDto.period': '…within this window (duration, or seconds as a number).',
  'PlacementDto.assemblies': 'Assembly names.',
  'ConstraintDto.id': 'Optional name of the constraint.',
  'ConstraintDto.order': 'Start `first` before `then` (and stop in reverse).',
  'ConstraintDto.colocation': 'Run `service` where `with` runs (score > 0) or never there (score < 0).',
  'ConstraintDto.location': 'Prefer (score > 0) or avoid (score < 0) an assembly for a service.',
  'OrderDto.first': '`<assembly>/<service>`.',
  'OrderDto.then': '`<assembly>/<service>`.',
  'ColocationDto.service': '`<assembly>/<service>` placed relative to…',
  'ColocationDto.with': '…this `<assembly>/<service>`.',
  'ColocationDto.score': 'Integer or `INFINITY`/`-INFINITY` (default `INFINITY`).',
  'LocationDto.service': '`<assembly>/<service>`.',
  'LocationDto.assembly': 'An assembly name.',
  'LocationDto.score': 'Integer or `INFINITY`/`-INFINITY` (default `INFINITY`).',
};

/** The clones example of the reference (parsed when the reference is generated). */
const CLONES_EXAMPLE = [
  'assemblies:',
  '  - { name: web1, image: debian-12, hardwareProfile: small }',
  '  - { name: web2, image: debian-12, hardwareProfile: small }',
  '  - { name: web3, image: debian-12, hardwareProfile: small }',
  'clones:',
  '  - name: httpd                      # instances web1/httpd, web2/httpd, web3/httpd',
  '    assemblies: [web1, web2, web3]',
  '    service:',
  '      class: process',
  '      command: [python3, -m, http.server, "8080"]',
  '      monitor: { interval: 5s, timeout: 2s, http: { port: 8080 } }',
];

interface ParserModule {
  parseDeployable: (input: string, format?: 'json' | 'yaml' | 'xml') => unknown;
  MAX_DEPLOYABLE_BYTES: number;
  DEFAULT_MONITOR: { heartbeatIntervalMs: number; missedHeartbeats: number };
}

export function renderDeployableReference(root: string, load: Loader = createRequire(__filename)): string {
  const dtoFile = path.join(root, 'apps/cloud-policy-engine/src/deployables/dto/manifest.dto.ts');
  const parserFile = path.join(root, 'apps/cloud-policy-engine/src/deployables/deployable-parser.ts');
  // Paths computed at run time: the docs tools read the CPE's parser as a user of its format would.
  const dto = load(dtoFile) as { DeployableManifestDto: new () => object };
  const parser = load(parserFile) as ParserModule;
  const docs = propertyDocs([dtoFile]);
  const describe: Describe = (cls, prop) =>
    prop ? (docs.get(`${cls}.${prop}`) ?? MANIFEST_MEANINGS[`${cls}.${prop}`]) : docs.get(cls);
  const yamlFile = 'examples/shop.deployable.yaml';
  const xmlFile = 'examples/shop.pcmk-cloud.xml';
  const yamlText = readFileSync(path.join(root, yamlFile), 'utf8');
  const xmlText = readFileSync(path.join(root, xmlFile), 'utf8');
  const fromYaml = parser.parseDeployable(yamlText);
  parser.parseDeployable(xmlText);
  parser.parseDeployable(['name: clones-example', ...CLONES_EXAMPLE].join('\n'));
  const kb = Math.round(parser.MAX_DEPLOYABLE_BYTES / 1000);
  const lines = [
    '<!-- GENERATED by `npm run docs:generate` from the CPE parser (apps/cloud-policy-engine/src/deployables: manifest.dto.ts, deployable-parser.ts) and examples/. Do not edit: change them and regenerate. -->',
    '',
    '# Deployable format',
    '',
    'A *deployable* is a set of assemblies (instances, each running the Nephele agent) and the services',
    'they run, with constraints between services. The CPE accepts it in two formats, over REST',
    '(`POST /v1/deployables`, body as JSON, or YAML/XML text with its content type) and over AMQP 1.0',
    '(`deployable_create {config, format?}` to `nephele.cpe`):',
    '',
    '- **Nephele YAML/JSON** — the fields below; unknown fields are refused.',
    '- **pacemaker-cloud XML** — the `<deployable>` document of pacemaker-cloud, mapped onto the same',
    '  fields (section [pacemaker-cloud XML](#pacemaker-cloud-xml)).',
    '',
    `Without a stated format a text body is sniffed: \`<\` → XML, \`{\` → JSON, anything else YAML. A`,
    `document is at most ${parser.MAX_DEPLOYABLE_BYTES} bytes (~${kb} kB); YAML nests at most 64 levels and takes no custom`,
    'tags; XML takes no DTD or entities. A refused document answers 400 (REST) or an `_exception`',
    '(AMQP) listing every bad field as `field: message` (`assemblies[1].services[0].command: …`).',
    '',
    '## Durations and scores',
    '',
    'Durations are a number and a unit — `500ms`, `5s`, `10m`, `1h`, `1d` — or a bare number of',
    'seconds (`period: 60`, as pacemaker-cloud writes them). Scores are integers or',
    '`INFINITY`/`+INFINITY`/`-INFINITY` (±1,000,000, as Pacemaker); an omitted score is `INFINITY`.',
    '',
    '## Nephele YAML/JSON',
    '',
    `Defaults: \`pool\` \`default\`; \`monitor.heartbeatInterval\` ${parser.DEFAULT_MONITOR.heartbeatIntervalMs} ms; \`monitor.missedHeartbeats\` ${parser.DEFAULT_MONITOR.missedHeartbeats}.`,
    '',
    ...fieldTable(fieldRows(dto.DeployableManifestDto, describe)),
    '',
    'Beyond the per-field rules, the parser checks the document as a whole: at least one assembly;',
    'assembly names and `<assembly>/<service>` ids unique; a `process` service has a `command`, every',
    'other class a `type`, an `ocf` service a `provider`; a constraint is exactly one of `order`,',
    '`colocation`, `location` and names services and assemblies that exist; a service is not ordered',
    'after itself; `placement.assemblies` and parameter references name existing assemblies; parameter',
    'names are letters, digits and `_`; a group lists existing services of one assembly with the same',
    '`placement`, each service in at most one group, group names unique; a clone lists existing',
    'assemblies once each, its service has no `placement`, its instances clash with no declared service',
    'and are in no group, clone names unique and none a group name.',
    '',
    '### Groups',
    '',
    '`groups: [{name, services: [<assembly>/<service>, …]}]` makes services a Pacemaker group: they run',
    'on one assembly, start in the order listed (each after the previous one is running) and stop in',
    'reverse; when one of them escalates, the whole group moves to another assembly their `placement`',
    'allows (the same for all of them), stopping in reverse and starting in order there (Note [Groups] in',
    '`libs/policy/src/groups.ts`). Errors name the entry, e.g. `groups[0].services[1]: no service "x" on',
    'assembly web1`. Status (`GET /v1/deployables/{id}`, `nephele deployable status`) shows each',
    "service's `group`; stop and destroy stop a group's services in reverse order.",
    '',
    '```yaml',
    'assemblies:',
    '  - name: web1',
    '    image: debian-12',
    '    hardwareProfile: small',
    '    services:',
    '      - { name: httpd, class: process, command: [python3, -m, http.server, "8080"], placement: { assemblies: [web1, web2] } }',
    '      - { name: cache, class: ocf, provider: heartbeat, type: Dummy, placement: { assemblies: [web1, web2] } }',
    '  - { name: web2, image: debian-12, hardwareProfile: small }',
    'groups:',
    '  - { name: web, services: [web1/httpd, web1/cache] }   # httpd starts first, cache after it; both move together',
    '```',
    '',
    '### Clones',
    '',
    '`clones: [{name, service, assemblies: [a1, a2, …]}]` runs one service on every listed assembly, one',
    'instance each, named `<assembly>/<service>` like any service (constraints may name an instance).',
    '`service` is a service definition as under `assemblies[].services[]` — its `name` defaults to the',
    "clone's, and it has no `placement` — or the id `<assembly>/<service>` of a declared service, which",
    'then runs as the clone (on the listed assemblies only). Each instance is pinned to its assembly and',
    'has its own recovery ladder: it is restarted in place, and when it escalates or its assembly is lost',
    'its assembly is replaced; meanwhile it stays stopped — it never moves onto another assembly — and',
    'the other instances keep running (Note [Clones as pinned primitives] in',
    '`apps/cloud-policy-engine/src/deployables/deployable-parser.ts`). The stored document lists the',
    'instances with the services of their assemblies and the clone under `clones`. Errors name the entry,',
    'e.g. `clones[0].assemblies[2]: unknown assembly a9`, `groups[0].services[1]: a1/web is an instance',
    "of clone web: a clone's instances are not in groups`. Status (`GET /v1/deployables/{id}`,",
    '`deployable_status`, `nephele deployable status`, the console) shows each instance under its',
    'assembly with its `clone`. Applying a version with fewer assemblies stops the dropped instances',
    'and leaves the others running (a service a new version removes is stopped: Note [Removed services]',
    'in `apps/dpe-worker/src/dpe/dpe.reconciler.ts`).',
    '',
    '```yaml',
    ...CLONES_EXAMPLE,
    '```',
    '',

    '### Parameters',
    '',
    '`parameters` maps a name to a literal (string, number or boolean, passed as a string) or to a',
    'reference `{ref: {assembly, parameter}}` resolved by the DPE when the referenced assembly is up',
    '(`address` is its first IP address). `ocf` services receive them as `OCF_RESKEY_<name>`,',
    '`process` services as environment variables.',
    '',
    '### Recovery (escalation, budgets, back-off)',
    '',
    'A failed service is restarted in place until it has failed `escalation.failures` times within',
    '`escalation.period`; it is then moved to another assembly its placement allows (at most',
    '`recovery.moves` times). An assembly that stops heartbeating, or whose agent never reports, is',
    'replaced, up to its own `escalation`; launches are tried `recovery.launchAttempts` times in a',
    'row. Attempts at the same rung are spaced by an exponential back-off (`backoff`). Errors that',
    'retrying cannot fix (a missing binary, OCF agent or init script; an image, hardware profile or',
    'pool the gateway does not know) are not retried. When a budget is spent the deployable is',
    '`failed` — terminal until the user acts: apply a fixed configuration, `start` it, or',
    '`POST /v1/deployables/{id}/retry` (Note [Recovery budgets] in',
    '`apps/dpe-worker/src/dpe/recovery-budget.ts`). Each rung is an event with its reason: see',
    '[events](events.md#nepheledpe) and [operations](../operations.md#runbook).',
    '',
    '### Example',
    '',
    `[\`${yamlFile}\`](../../${yamlFile}):`,
    '',
    '```yaml',
    yamlText.trimEnd(),
    '```',
    '',
    'What the CPE stores after parsing it (the normalised document a DPE plans from: durations in',
    'milliseconds, references and defaults resolved):',
    '',
    '```json',
    JSON.stringify(fromYaml, null, 2),
    '```',
    '',
    '## pacemaker-cloud XML',
    '',
    '| XML | Nephele field |',
    '|---|---|',
    '| `<deployable name pool>` | `name`, `pool` (`uuid`, `monitor`, `username` are accepted and ignored) |',
    '| `<assemblies><assembly name image hardware_profile>` | `assemblies[].name`, `.image`, `.hardwareProfile` (`image` and `hardware_profile` are Nephele additions; absent → `default`) |',
    '| `<assembly escalation_failures escalation_period>` | `assemblies[].escalation` (period in seconds or a duration; default 600 s when only failures is given) |',
    '| `<services><service name class provider type>` | `services[].name`, `.class`, `.provider`, `.type` |',
    '| `<service command>` | `services[].command`, split on white space |',
    '| `<service monitor_interval>` | `services[].monitor.interval` (default 10 s) |',
    '| `<service escalation_failures escalation_period>` | `services[].escalation` (default period 60 s) |',
    '| `<parameters><parameter name><value>…</value>` | `services[].parameters.<name>` = the text |',
    '| `<parameter name><reference assembly parameter/>` | `services[].parameters.<name>` = `{ref: {assembly, parameter}}` |',
    '| `<constraints><service_dependancy id first then/>` | `constraints[].order` (services named `rsc_<assembly>_<service>`, as pacemaker-cloud did) |',
    '',
    "pacemaker-cloud's format has no element for groups or clones (an assembly lists its own services,",
    'and constraints are `service_dependancy` orders only), so the XML reading has none: send a',
    'deployable with groups or clones as Nephele YAML/JSON.',
    '',
    `### Example`,
    '',
    `[\`${xmlFile}\`](../../${xmlFile}) — the same deployable (its web service as an LSB script):`,
    '',
    '```xml',
    xmlText.trimEnd(),
    '```',
    '',
  ];
  return lines.join('\n');
}

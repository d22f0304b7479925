import { bindParameters, evaluate, HotContext, resourceOrder, validateHot, violated } from './index';

const ctx = (over: Partial<HotContext> = {}): HotContext => ({
  params: { port: 8080, names: ['a', 'b'], conf: { db: { host: 'h' } } },
  pseudo: { 'OS::stack_name': 'st', 'OS::stack_id': 'sid', 'OS::project_id': 'p' },
  ref: (r) => (r === 'web' ? 'id-web' : undefined),
  attr: (r, path) =>
    r === 'web' && path[0] === 'first_address'
      ? '10.0.0.5'
      : r === 'grp' && path[0] === 'name'
        ? ['g-0', 'g-1']
        : undefined,
  ...over,
});

const server = { type: 'OS::Nova::Server', properties: { image: 'img', flavor: 'small' } };

describe('HOT intrinsic functions', () => {
  it.each([
    ['get_param', { get_param: 'port' }, 8080],
    ['get_param with a path', { get_param: ['conf', 'db', 'host'] }, 'h'],
    ['get_param with a list index', { get_param: ['names', 1] }, 'b'],
    ['a pseudo parameter', { get_param: 'OS::stack_name' }, 'st'],
    ['get_resource', { get_resource: 'web' }, 'id-web'],
    ['get_attr', { get_attr: ['web', 'first_address'] }, '10.0.0.5'],
    [
      'str_replace (longest key first, one pass, numbers as text)',
      {
        str_replace: {
          template: 'http://$host:$port/$host_name',
          params: { $host: 'H', $host_name: 'N', $port: { get_param: 'port' } },
        },
      },
      'http://H:8080/N',
    ],
    [
      'str_replace does not re-replace inserted text',
      { str_replace: { template: 'a b', params: { a: 'b', b: 'c' } } },
      'b c',
    ],
    [
      'list_join of several lists',
      { list_join: [',', ['x', 'y'], { get_attr: ['grp', 'name'] }] },
      'x,y,g-0,g-1',
    ],
    ['list_join of non-strings as JSON', { list_join: ['-', [1, { a: 1 }]] }, '1-{"a":1}'],
    ['nested in maps and lists', { a: [{ get_param: 'port' }], b: 'plain' }, { a: [8080], b: 'plain' }],
  ])('%s', (_name, expr, expected) => {
    expect(evaluate(expr, ctx())).toEqual(expected);
  });

  it('refuses bad arguments and unknown parameters', () => {
    expect(() => evaluate({ get_param: 'nope' }, ctx())).toThrow(/no parameter nope/);
    expect(() => evaluate({ str_replace: { template: 1, params: {} } }, ctx())).toThrow(/str_replace takes/);
    expect(() => evaluate({ list_join: [',', 'notalist'] }, ctx())).toThrow(/joins lists/);
    expect(() => evaluate({ get_attr: ['web'] }, ctx())).toThrow(/get_attr takes/);
  });

  it('a value not made yet is undefined (get_attr of a resource not created)', () => {
    expect(evaluate({ get_attr: ['db', 'first_address'] }, ctx())).toBeUndefined();
  });
});

describe('HOT parameters and constraints', () => {
  const t = {
    parameters: {
      port: { type: 'number' as const, default: 8080, constraints: [{ range: { min: 1024, max: 65535 } }] },
      size: { type: 'string' as const, constraints: [{ allowed_values: ['small', 'large'] }] },
      name: {
        type: 'string' as const,
        default: 'web',
        constraints: [{ length: { min: 2, max: 8 } }, { allowed_pattern: '[a-z]+' }],
      },
      flag: { type: 'boolean' as const, default: false },
      list: { type: 'comma_delimited_list' as const, default: 'a,b' },
      doc: { type: 'json' as const, default: '{"k":1}' },
    },
  };

  it('converts the strings the CLI sends and applies defaults', () => {
    const r = bindParameters(t, { port: '9090', size: 'large', flag: 'yes' });
    expect(r.errors).toEqual([]);
    expect(r.values).toEqual({
      port: 9090,
      size: 'large',
      name: 'web',
      flag: true,
      list: ['a', 'b'],
      doc: { k: 1 },
    });
  });

  it.each([
    [{ size: 'small', port: '80' }, 'parameters.port', /80 must be at least 1024/],
    [{ size: 'huge' }, 'parameters.size', /"huge" is not an allowed value \[small, large\]/],
    [{ size: 'small', name: 'x' }, 'parameters.name', /length must be at least 2/],
    [{ size: 'small', name: 'Web1' }, 'parameters.name', /does not match pattern "\[a-z\]\+"/],
    [{ size: 'small', port: 'eighty' }, 'parameters.port', /"eighty" is not a number/],
    [{ size: 'small', flag: 'maybe' }, 'parameters.flag', /not a boolean/],
    [{ size: 'small', doc: '{' }, 'parameters.doc', /not valid JSON/],
    [{}, 'parameters.size', /The Parameter \(size\) was not provided/],
    [{ size: 'small', extra: '1' }, 'parameters.extra', /was not defined in template/],
  ])('%j is refused at %s', (given, field, message) => {
    const r = bindParameters(t, given);
    expect(r.errors).toEqual([expect.objectContaining({ field, message: expect.stringMatching(message) })]);
  });

  it('a constraint description replaces the generic message; custom constraints ask the cloud', () => {
    expect(violated('number', 5, [{ range: { max: 3 }, description: 'at most three' }])).toBe(
      'at most three',
    );
    expect(
      violated('string', 'tiny', [{ custom_constraint: 'nova.flavor' }], (c, v) =>
        c === 'nova.flavor' && v !== 'small' ? `no flavor ${String(v)}` : undefined,
      ),
    ).toBe('no flavor tiny');
  });
});

describe('HOT templates', () => {
  it('accepts the subset and orders resources by their references and depends_on', () => {
    const r = validateHot({
      heat_template_version: '2018-08-31',
      resources: {
        web: {
          ...server,
          properties: { ...server.properties, user_data: { get_resource: 'cfg' }, user_data_format: 'RAW' },
          depends_on: 'db',
        },
        cfg: {
          type: 'OS::Heat::SoftwareConfig',
          properties: {
            config: {
              str_replace: { template: 'db=$db', params: { $db: { get_attr: ['db', 'first_address'] } } },
            },
          },
        },
        db: server,
        group: {
          type: 'OS::Heat::ResourceGroup',
          properties: {
            count: 2,
            resource_def: { ...server, properties: { ...server.properties, name: 'n-%index%' } },
          },
        },
      },
      outputs: {
        url: { value: { get_attr: ['web', 'first_address'] } },
        names: { value: { get_attr: ['group', 'name'] } },
      },
    });
    expect(r.errors).toEqual([]);
    expect(resourceOrder(r.template!.resources)).toEqual(['db', 'cfg', 'web', 'group']);
  });

  it.each([
    [
      { resources: { n: { type: 'OS::Neutron::Net' } } },
      'resources.n.type',
      /OS::Neutron::Net\) is not supported/,
    ],
    [
      {
        resources: {
          s: { ...server, properties: { ...server.properties, user_data: { get_file: 'x.sh' } } },
        },
      },
      'resources.s.properties.user_data',
      /get_file is not supported/,
    ],
    [
      { resources: { s: { ...server, properties: { ...server.properties, block_device_mapping: [] } } } },
      'resources.s.properties.block_device_mapping',
      /Unknown Property/,
    ],
    [
      {
        resources: {
          s: { ...server, properties: { ...server.properties, user_data_format: 'SOFTWARE_CONFIG' } },
        },
      },
      'resources.s.properties.user_data_format',
      /only RAW/,
    ],
    [{ resources: { s: { ...server, condition: 'c' } } }, 'resources.s.condition', /not supported/],
    [{ conditions: {}, resources: {} }, 'conditions', /section conditions is not supported/],
    [{ resources: { s: { ...server, depends_on: 'ghost' } } }, 'resources.s.depends_on', /"ghost"/],
    [
      { resources: { s: server }, outputs: { o: { value: { get_attr: ['s', 'mac'] } } } },
      'outputs.o.value',
      /Referenced Attribute \(s mac\)/,
    ],
    [
      { parameters: { p: { type: 'string', constraints: [{ modulo: { step: 2 } }] } }, resources: {} },
      'parameters.p.constraints[0].modulo',
      /not supported/,
    ],
    [{ heat_template_version: 'someday', resources: {} }, 'heat_template_version', /HOT version/],
  ])('refuses %j naming %s', (doc, field, message) => {
    const r = validateHot({ heat_template_version: '2018-08-31', ...doc });
    expect(r.errors).toContainEqual({ field, message: expect.stringMatching(message) });
  });

  it('refuses a dependency cycle', () => {
    const r = validateHot({
      heat_template_version: '2018-08-31',
      resources: { a: { ...server, depends_on: 'b' }, b: { ...server, depends_on: 'a' } },
    });
    expect(r.errors[0]!.message).toMatch(/Circular Dependency Found/);
  });
});

import { bindParameters, renderOutput, renderTemplate } from './template.util';

describe('cluster templates', () => {
  const declared = [
    { name: 'replicas', type: 'integer' as const, default: 1 },
    { name: 'title', type: 'string' as const, required: true },
    { name: 'debug', type: 'boolean' as const },
  ];

  it('binds values with defaults and refuses unknown, missing and mistyped ones', () => {
    expect(bindParameters(declared, { title: 'Blog' })).toEqual({
      values: { replicas: 1, title: 'Blog' },
      errors: [],
    });
    const r = bindParameters(declared, { replicas: 'two', colour: 'red' });
    expect(r.errors.map((e) => e.field).sort()).toEqual([
      'parameters.colour',
      'parameters.replicas',
      'parameters.title',
    ]);
  });

  it('renders placeholders, keeping the type of whole-string ones', () => {
    const errors: { field: string; message: string }[] = [];
    const out = renderTemplate(
      { a: '{{replicas}}', b: 'site: {{parameters.title}}', c: ['{{title}}', 3], d: '{{nope}}' },
      { replicas: 2, title: 'Blog' },
      errors,
    );
    expect(out).toEqual({ a: 2, b: 'site: Blog', c: ['Blog', 3], d: undefined });
    expect(errors).toEqual([{ field: 'template.d', message: 'no value for {{nope}}' }]);
  });

  it('renders outputs from parameters and assembly addresses, null while unknown', () => {
    expect(
      renderOutput(
        'http://{{assemblies.web1.address}}:{{port}}/',
        { port: 8080 },
        { web1: { address: '10.0.0.2' } },
      ),
    ).toBe('http://10.0.0.2:8080/');
    expect(renderOutput('http://{{assemblies.web1.address}}/', {}, { web1: {} })).toBeNull();
  });
});

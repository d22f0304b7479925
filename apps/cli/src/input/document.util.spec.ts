import { CliError } from '../errors.util';
import {
  deployableNameOf,
  DocumentFile,
  formatOf,
  parseObjectDocument,
  readDocumentFile,
} from './document.util';

const doc = (text: string, format: DocumentFile['format']): DocumentFile => ({
  source: 'test',
  text,
  format,
});

describe('documents given with -f', () => {
  it('knows the format by extension, else by the first character', () => {
    expect(formatOf('a.yml', '{')).toBe('yaml');
    expect(formatOf('a.JSON', 'x: 1')).toBe('json');
    expect(formatOf('a.xml', '')).toBe('xml');
    expect(formatOf('-', '  <deployable/>')).toBe('xml');
    expect(formatOf('-', '{"a":1}')).toBe('json');
    expect(formatOf('deployable', 'name: x')).toBe('yaml');
  });

  it('reads standard input for -', () => {
    expect(readDocumentFile('-', () => 'name: x\n')).toEqual({
      source: 'standard input',
      text: 'name: x\n',
      format: 'yaml',
    });
    expect(() => readDocumentFile('-', () => '  \n')).toThrow('standard input is empty');
  });

  it('finds the name of a deployable in YAML, JSON and pacemaker-cloud XML', () => {
    expect(deployableNameOf(doc('apiVersion: nephele/v1\nname: shop\nassemblies: []\n', 'yaml'))).toBe(
      'shop',
    );
    expect(deployableNameOf(doc('{"name":"shop","assemblies":[]}', 'json'))).toBe('shop');
    expect(
      deployableNameOf(
        doc('<?xml version="1.0"?>\n<deployable name="shop" uuid="x"><assemblies/></deployable>', 'xml'),
      ),
    ).toBe('shop');
  });

  it('leaves a malformed or nameless deployable to the API (which names every bad field)', () => {
    expect(deployableNameOf(doc('name: [shop', 'yaml'))).toBeUndefined();
    expect(deployableNameOf(doc('assemblies: []', 'yaml'))).toBeUndefined();
    expect(deployableNameOf(doc('{"name": 3}', 'json'))).toBeUndefined();
  });

  it('parses a resource body as one object', () => {
    expect(parseObjectDocument(doc('name: web\nquota: { maxInstances: 3 }\n', 'yaml'))).toEqual({
      name: 'web',
      quota: { maxInstances: 3 },
    });
    expect(() => parseObjectDocument(doc('- a\n- b\n', 'yaml'))).toThrow(
      'test must hold one object (got a list)',
    );
    expect(() => parseObjectDocument(doc('{"name":', 'json'))).toThrow(/test is not valid JSON/);
    expect(() => parseObjectDocument(doc('<x/>', 'xml'))).toThrow(CliError);
  });
});

// Runs a TypeScript file directly: `node tools/ts-run.js <file.ts> [args]`. Compiles with SWC
// (decorator metadata included) and resolves the workspace's @nephele/* aliases.
const fs = require('fs');
const path = require('path');
const Module = require('module');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '..');
const paths = require(path.join(root, 'tsconfig.base.json')).compilerOptions.paths;
const aliases = Object.fromEntries(Object.entries(paths).map(([k, [v]]) => [k, path.join(root, v)]));

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (aliases[request]) return aliases[request];
  return resolve.call(this, request, parent, ...rest);
};
require.extensions['.ts'] = function (m, filename) {
  const out = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  });
  m._compile(out.code, filename);
};
process.setSourceMapsEnabled(true);
process.env.TZ = process.env.TZ || 'UTC';
require('reflect-metadata');

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node tools/ts-run.js <file.ts> [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(file), ...args];
require(path.resolve(file));

// Bundles one app into dist/apps/<app>/main.js. esbuild does the bundling; SWC compiles each
// TypeScript file first because esbuild cannot emit decorator metadata, which Nest's dependency
// injection and class-validator rely on. npm packages stay external (installed by `npm ci`).
import { build } from 'esbuild';
import { transform } from '@swc/core';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const pkg = require(path.join(root, 'package.json'));
const [app, entry = 'src/main.ts', out = 'main.js'] = process.argv.slice(2);
if (!app) {
  console.error('usage: node tools/build.mjs <app> [entry] [outfile]');
  process.exit(2);
}

const swcPlugin = {
  name: 'swc-decorators',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const result = await transform(source, {
        filename: args.path,
        sourceMaps: 'inline',
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs', ignoreDynamic: true },
      });
      return { contents: result.code, loader: 'js' };
    });
  },
};

const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
await build({
  entryPoints: [path.join(root, 'apps', app, entry)],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outfile: path.join(root, 'dist', 'apps', app, out),
  external: [...external, ...external.map((e) => `${e}/*`)],
  tsconfig: path.join(root, 'tsconfig.base.json'),
  plugins: [swcPlugin],
  sourcemap: true,
  keepNames: true,
  logLevel: 'warning',
});
console.log(`built dist/apps/${app}/${out}`);

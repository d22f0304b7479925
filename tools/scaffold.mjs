// Creates the skeleton of a lib or app with the workspace's conventions:
//   node tools/scaffold.mjs lib <name> <type> | node tools/scaffold.mjs app <name>
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

const [kind, name, type] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dir = path.join(root, kind === 'app' ? 'apps' : 'libs', name);
const rel = path.relative(root, dir);
const w = (f, s) => {
  const p = path.join(dir, f);
  if (existsSync(p)) return;
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, s);
};
const jest = (tier) => `module.exports = require('../../jest.preset').preset(__dirname, '${tier}');\n`;
const targets = {
  lint: { executor: 'nx:run-commands', options: { command: `eslint ${rel} --max-warnings 0` } },
  test: {
    executor: 'nx:run-commands',
    options: { command: `jest -c ${rel}/jest.config.js --passWithNoTests` },
  },
  'test-int': {
    executor: 'nx:run-commands',
    options: { command: `jest -c ${rel}/jest.int.config.js --passWithNoTests` },
  },
};
if (kind === 'app') {
  targets.build = {
    executor: 'nx:run-commands',
    outputs: [`{workspaceRoot}/dist/apps/${name}`],
    options: { command: `node tools/build.mjs ${name}` },
  };
  targets.serve = {
    executor: 'nx:run-commands',
    dependsOn: ['build'],
    options: { command: `node --enable-source-maps dist/apps/${name}/main.js` },
  };
  targets.e2e = {
    executor: 'nx:run-commands',
    options: { command: `jest -c ${rel}/jest.e2e.config.js --passWithNoTests` },
  };
}
w(
  'project.json',
  JSON.stringify(
    {
      name,
      $schema: '../../node_modules/nx/schemas/project-schema.json',
      sourceRoot: `${rel}/src`,
      projectType: kind === 'app' ? 'application' : 'library',
      tags: kind === 'app' ? ['scope:app', 'type:app'] : ['scope:shared', `type:${type}`],
      targets,
    },
    null,
    2,
  ) + '\n',
);
w(
  'package.json',
  JSON.stringify(
    {
      name: `@nephele/${name}`,
      version: '0.1.0',
      private: true,
      main: kind === 'app' ? 'src/main.ts' : 'src/index.ts',
    },
    null,
    2,
  ) + '\n',
);
w('jest.config.js', jest('unit'));
w('jest.int.config.js', jest('int'));
if (kind === 'app') w('jest.e2e.config.js', jest('e2e'));
w(kind === 'app' ? 'src/main.ts' : 'src/index.ts', '');
console.log(`scaffolded ${rel}`);

// Shared jest settings. Tiers are chosen by file name (STYLE.md): *.spec.ts (unit), *.int-spec.ts
// (real PostgreSQL/RabbitMQ), *.e2e-spec.ts (services as processes).
const path = require('path');
const tsconfig = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(tsconfig.compilerOptions.paths)) {
  moduleNameMapper[`^${alias}$`] = path.join(__dirname, target);
}

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

function preset(projectDir, tier) {
  const match = { unit: '**/*.spec.ts', int: '**/*.int-spec.ts', e2e: '**/*.e2e-spec.ts' }[tier];
  return {
    rootDir: projectDir,
    testEnvironment: 'node',
    testMatch: [`<rootDir>/${match}`],
    transform: { '^.+\\.(t|j|mj)s$': swc },
    transformIgnorePatterns: ['/node_modules/(?!(@nestjs|uid|load-esm|file-type|cron-parser|luxon|@kubernetes/client-node|openid-client|oauth4webapi|jose)/)'],
    moduleNameMapper,
    setupFiles: [path.join(__dirname, 'tools/jest-setup.js')],
    testTimeout: tier === 'unit' ? 10000 : 120000,
    maxWorkers: tier === 'unit' ? '50%' : 1,
  };
}

module.exports = { preset };

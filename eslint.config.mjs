import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';

/**
 * The pure projects (type:domain — policy, scaling, broker, hot — and type:contracts; ADR 6) use no
 * I/O package and no Nest; their tests may. Node's built-ins are banned below (no-restricted-imports).
 */
const pureBans = ['pg', 'pg-*', 'amqplib', 'rhea', '@nestjs/*', 'typeorm', 'ioredis'];
const pureBuiltins = ['fs', 'fs/promises', 'net', 'node:fs', 'node:fs/promises', 'node:net', 'child_process', 'node:child_process'];

/** Tags on two axes (STYLE.md). Tests of any project may also use the testing lib. */
const constraints = (forTests) => [
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', ...(forTests ? ['type:testing'] : [])] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:util', ...(forTests ? ['type:testing'] : [])], bannedExternalImports: forTests ? [] : pureBans },
  { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', ...(forTests ? ['type:testing'] : [])], bannedExternalImports: forTests ? [] : pureBans },
  { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:infra', ...(forTests ? ['type:testing'] : [])] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:infra', 'type:domain', ...(forTests ? ['type:testing'] : [])] },
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:infra', 'type:domain', ...(forTests ? ['type:testing'] : [])] },
];
const boundaries = (forTests) => ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints: constraints(forTests) }];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '**/*.js', '**/*.mjs', '**/*.cjs', '.nephele/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@nx/enforce-module-boundaries': boundaries(false),
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(true),
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Node's built-in modules are not in the project graph, so bannedExternalImports cannot see them.
    files: ['libs/{policy,scaling,broker,hot,contracts}/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/test/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: pureBuiltins.map((name) => ({ name, message: 'domain and contracts libs are pure (ADR 6): do I/O in an app or an infra lib' })) }],
    },
  },
  {
    // The all-in-one composes every service module into one process (ARCHITECTURE §7): it is the one
    // project that imports apps, and only through each app's src/index.ts.
    files: ['apps/nephele/src/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': 'off',
      'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./\\.\\./[a-z-]+/src/.+', message: 'import another app only through its src/index.ts' }] }],
    },
  },
);

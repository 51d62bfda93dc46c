import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Scopes allowed to import a given external package; every other project is refused. */
const only = (scopes, packages) => ({
  sourceTag: `/^scope:(?!(${scopes.join('|')})$).*/`,
  bannedExternalImports: packages,
});

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.nx', '**/coverage', '.churn-demo', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // noUncheckedIndexedAccess makes typed-array reads in hot loops `T | undefined`; `!` there is deliberate.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:data-access', 'type:util'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:domain', 'type:data-access', 'type:util', 'type:app'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:data-access', 'type:util'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            only(['onnx-runner', 'bench'], ['onnxruntime-node', 'onnxruntime-common', 'onnxruntime-web']),
            only(['arrow-io', 'integration-e2e'], ['parquet-wasm', 'parquet-wasm/*']),
            // parquetjs-lite is only the naive baseline of the benchmark (DESIGN.md section 5).
            only(['bench'], ['parquetjs-lite']),
            only(['object-store', 'integration-e2e'], ['@aws-sdk/*', 's3rver']),
            only(['warehouse', 'integration-e2e'], ['@duckdb/*']),
            only(['jobs', 'producer', 'worker', 'integration-e2e', 'bench'], ['bullmq', 'ioredis']),
            only(['worker', 'producer'], ['prom-client']),
          ],
        },
      ],
    },
  },
];

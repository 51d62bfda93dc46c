import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Scopes allowed to import a given external package; every other project is refused. */
const only = (scopes, packages) => ({
  sourceTag: `/^scope:(?!(${scopes.join('|')})$).*/`,
  bannedExternalImports: packages,
});

/**
 * Layering and engine ownership. `duckdbScopes` adds scopes allowed to import DuckDB: only the
 * benchmark's peer file gets one (see the override at the end).
 */
const depConstraints = (duckdbScopes = []) => [
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
  only(['warehouse', 'integration-e2e', ...duckdbScopes], ['@duckdb/*']),
  only(['jobs', 'producer', 'worker', 'integration-e2e', 'bench'], ['bullmq', 'ioredis']),
  only(['worker', 'producer'], ['prom-client']),
  // One structured logger; the apps log through @churn/logging's Logger, never pino itself.
  only(['logging'], ['pino', 'pino-pretty', 'pino/*']),
  // The report inlines Chart.js's browser bundle; the browser test drives Chromium.
  only(['report'], ['chart.js']),
  only(['integration-e2e'], ['playwright-core']),
  // wabt compiles the .wat sources (tools/build-wasm.mjs); only their specs load it.
  only(['explain'], ['wabt']),
  // The PostgreSQL client belongs to the warehouse loader alone.
  only(['warehouse-pg'], ['pg', 'pg-copy-streams', 'pg-*']),
];

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
          depConstraints: depConstraints(),
        },
      ],
    },
  },
  {
    // The benchmark's peer (tools/bench/src/duckdb-peer.ts) is the plain DuckDB + ONNX Runtime
    // pipeline the product is measured against: it must use DuckDB itself, which only the
    // warehouse lib may import elsewhere, and it must not use the product's libs, or the
    // benchmark would compare the product with itself. This file alone gets both rules.
    files: ['tools/bench/src/duckdb-peer.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints: depConstraints(['bench']) }],
      'no-restricted-imports': ['error', { patterns: [{ group: ['@churn/*'], message: 'the peer must not use the product\'s libs' }] }],
    },
  },
];

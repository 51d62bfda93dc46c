// Shared jest settings. ts-jest only transpiles (isolatedModules); the `typecheck` target
// type-checks, so tests stay fast. @churn/* imports map to lib sources, like tsconfig paths.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias}$`] = path.join(__dirname, target);
}

module.exports = {
  // node, plus the main realm's typed arrays, which onnxruntime-node's tensors need (see the file).
  testEnvironment: path.join(__dirname, 'tools', 'jest', 'onnx-test-environment.js'),
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.base.json'), diagnostics: false }],
    // SQL migrations are imported as text, as esbuild's text loader bundles them.
    '^.+\\.sql$': path.join(__dirname, 'tools', 'jest', 'text-transform.js'),
  },
  moduleFileExtensions: ['ts', 'js', 'json', 'sql'],
  moduleNameMapper,
  testMatch: ['**/?(*.)+(spec|test).ts'],
  // Generous: the 2-core machines running CI are shared, and a test that writes a snapshot
  // can take seconds under load. Tests never assert times; this only bounds a hang.
  testTimeout: 60_000,
};

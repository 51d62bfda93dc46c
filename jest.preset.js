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
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testMatch: ['**/?(*.)+(spec|test).ts'],
};

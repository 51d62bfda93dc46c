module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'integration-e2e',
  rootDir: __dirname,
  // The CLI tests run the built `churn` binary, as a user would; building takes well under a second.
  globalSetup: '<rootDir>/src/support/build-cli.js',
  testTimeout: 120_000,
};

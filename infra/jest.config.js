module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'deploy',
  rootDir: __dirname,
  globalSetup: '<rootDir>/test/build-cli.js',
  testTimeout: 60_000,
};

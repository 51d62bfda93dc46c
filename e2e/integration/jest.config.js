module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'integration-e2e',
  rootDir: __dirname,
};

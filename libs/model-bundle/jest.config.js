module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'model-bundle',
  rootDir: __dirname,
};

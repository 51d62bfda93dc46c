module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'model-trainer',
  rootDir: __dirname,
};

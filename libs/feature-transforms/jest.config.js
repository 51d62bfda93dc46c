module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'feature-transforms',
  rootDir: __dirname,
};

module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'warehouse',
  rootDir: __dirname,
};

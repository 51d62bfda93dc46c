module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'warehouse-pg',
  rootDir: __dirname,
};

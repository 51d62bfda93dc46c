module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'arrow-io',
  rootDir: __dirname,
};

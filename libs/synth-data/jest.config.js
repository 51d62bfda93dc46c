module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'synth-data',
  rootDir: __dirname,
};

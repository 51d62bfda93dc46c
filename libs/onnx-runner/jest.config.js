module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'onnx-runner',
  rootDir: __dirname,
};

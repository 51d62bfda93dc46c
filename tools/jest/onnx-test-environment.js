// Jest runs tests in a separate V8 realm, but onnxruntime-node creates output tensors' typed arrays
// in the main realm; onnxruntime-common (loaded in the test realm) then rejects them with "A float32
// tensor's data must be type of function Float32Array()". Sharing the main realm's typed-array
// constructors with the test realm makes both sides agree. Any project whose tests run ONNX
// Runtime needs this, so jest.preset.js makes it every project's environment.
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OnnxTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxTestEnvironment;

// Must come first: lets ONNX Runtime's output tensors pass onnxruntime-common's typed-array checks.
import { onnx } from 'onnx-proto';
import { ChurnError } from '@churn/errors';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEVICES, candidateDevices, parseDevice, webgpuHostProblem } from './execution-provider';
import { OnnxScorer, defaultBatchRows, inspectModel, signatureProblems, type ModelSignature, type ScorerOptions } from './onnx-scorer';
import { churnErrorOf } from '@churn/testing';

// ---------------------------------------------------------------------------------------------
// Tiny ONNX models built in the test (opset 17, IR 8), with weights whose outputs we can compute.

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

function floatTensor(name: string, dims: number[], values: readonly number[]): onnx.ITensorProto {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dataType: FLOAT, dims, rawData: bytes };
}

function int64Tensor(name: string, values: readonly number[]): onnx.ITensorProto {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dataType: INT64, dims: [values.length], rawData: bytes };
}

function valueInfo(name: string, dims: (number | 'batch')[], elemType: number = FLOAT): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (d === 'batch' ? { dimParam: 'batch' } : { dimValue: d })) } } },
  };
}

function node(opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = []): onnx.INodeProto {
  return { opType, name: output, input, output: [output], attribute };
}

function encode(graph: onnx.IGraphProto): Uint8Array {
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'onnx-runner-spec', graph });
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
}

interface LinearModel {
  /** Weight rows: one per output column, each `features` wide. */
  weights: number[][];
  bias: number[];
  /** Apply a Sigmoid after the Gemm (probability output) or not (logit output). */
  sigmoid: boolean;
  /** Squeeze a one-column output to shape [batch]. */
  squeeze?: boolean;
  inputName?: string;
  outputName?: string;
}

/** features [batch, F] -> Gemm(transB) [-> Sigmoid] [-> Squeeze] -> output. */
function linearModel(spec: LinearModel): Uint8Array {
  const inputName = spec.inputName ?? 'features';
  const outputName = spec.outputName ?? 'churn_probability';
  const width = spec.weights[0]!.length;
  const k = spec.weights.length;
  const nodes: onnx.INodeProto[] = [node('Gemm', [inputName, 'w', 'b'], spec.sigmoid || spec.squeeze ? 'linear' : outputName, [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }])];
  const initializer = [floatTensor('w', [k, width], spec.weights.flat()), floatTensor('b', [k], spec.bias)];
  let last = 'linear';
  if (spec.sigmoid) {
    const out = spec.squeeze ? 'activated' : outputName;
    nodes.push(node('Sigmoid', ['linear'], out));
    last = out;
  }
  if (spec.squeeze) {
    initializer.push(int64Tensor('axes', [1]));
    nodes.push(node('Squeeze', [last, 'axes'], outputName));
  }
  return encode({
    name: 'linear',
    input: [valueInfo(inputName, ['batch', width])],
    output: [valueInfo(outputName, spec.squeeze ? ['batch'] : ['batch', k])],
    initializer,
    node: nodes,
  });
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const W = [0.5, -1.25, 2];
const B = -0.3;

/** Ten rows of three features, deterministic. */
function featureMatrix(rows: number): Float32Array {
  return Float32Array.from({ length: rows * 3 }, (_, i) => Math.sin(i * 1.7) * 2);
}

function expectedLinear(features: Float32Array, rows: number, weights: number[], bias: number, squash: (z: number) => number): number[] {
  return Array.from({ length: rows }, (_, r) => squash(weights.reduce((acc, w, f) => acc + w * features[r * 3 + f]!, bias)));
}

function options(modelBytes: Uint8Array, overrides: Partial<ScorerOptions> = {}): ScorerOptions {
  return {
    modelBytes,
    inputName: 'features',
    outputName: 'churn_probability',
    probabilityIndex: 0,
    outputKind: 'probability',
    featureCount: 3,
    device: 'cpu',
    intraOpThreads: 1,
    ...overrides,
  };
}


function expectClose(actual: Float32Array, expected: number[], tolerance = 1e-6): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => {
    if (Math.abs(v - expected[i]!) > tolerance) throw new Error(`row ${i}: got ${v}, expected ${expected[i]} (±${tolerance})`);
  });
}

// ---------------------------------------------------------------------------------------------

describe('OnnxScorer', () => {
  const probabilityModel = linearModel({ weights: [W], bias: [B], sigmoid: true });

  it('scores a Gemm+Sigmoid model to the closed-form values, across several batches', async () => {
    const scorer = await OnnxScorer.create(options(probabilityModel, { batchRows: 3 }));
    try {
      expect(scorer.device).toBe('cpu');
      expect(scorer.batchRows).toBe(3);
      const features = featureMatrix(10);
      const batches: number[] = [];
      const scores = await scorer.score(features, 10, (rows, ms) => {
        batches.push(rows);
        expect(ms).toBeGreaterThanOrEqual(0);
      });
      expect(batches).toEqual([3, 3, 3, 1]);
      expectClose(scores, expectedLinear(features, 10, W, B, sigmoid));
      // Batching does not change results.
      const single = await scorer.score(features, 10);
      expect(Array.from(single)).toEqual(Array.from(scores));
    } finally {
      await scorer.release();
    }
  });

  it('scores only the first `rows` rows of a larger buffer, and nothing for 0 rows', async () => {
    const scorer = await OnnxScorer.create(options(probabilityModel, { batchRows: 4 }));
    try {
      const features = featureMatrix(10);
      expectClose(await scorer.score(features, 6), expectedLinear(features, 6, W, B, sigmoid));
      expect(await scorer.score(features, 0)).toHaveLength(0);
    } finally {
      await scorer.release();
    }
  });

  it("defaults to the provider's batch: 16,384 rows on the CPU, 65,536 on a GPU", async () => {
    expect([defaultBatchRows('cpu'), defaultBatchRows('cuda'), defaultBatchRows('webgpu')]).toEqual([16_384, 65_536, 65_536]);
    const scorer = await OnnxScorer.create(options(probabilityModel));
    try {
      expect(scorer.device).toBe('cpu');
      expect(scorer.batchRows).toBe(16_384);
    } finally {
      await scorer.release();
    }
  });

  it('reads the probability column of an [N, 2] output', async () => {
    const weights = [W.map((w) => -w), [0.1, 0.2, -0.4]];
    const bias = [0.7, 0.05];
    const model = linearModel({ weights, bias, sigmoid: true });
    const features = featureMatrix(10);
    for (const probabilityIndex of [1, 0]) {
      const scorer = await OnnxScorer.create(options(model, { probabilityIndex, batchRows: 3 }));
      try {
        expectClose(await scorer.score(features, 10), expectedLinear(features, 10, weights[probabilityIndex]!, bias[probabilityIndex]!, sigmoid));
      } finally {
        await scorer.release();
      }
    }
  });

  it('passes logit outputs through a sigmoid', async () => {
    const model = linearModel({ weights: [W], bias: [B], sigmoid: false });
    const features = featureMatrix(10);
    const logits = await OnnxScorer.create(options(model, { outputKind: 'logit', batchRows: 3 }));
    const raw = await OnnxScorer.create(options(model, { outputKind: 'probability' }));
    try {
      expectClose(await logits.score(features, 10), expectedLinear(features, 10, W, B, sigmoid));
      expectClose(await raw.score(features, 10), expectedLinear(features, 10, W, B, (z) => z), 1e-5);
    } finally {
      await logits.release();
      await raw.release();
    }
  });

  it('reads a one-dimensional [N] output', async () => {
    const model = linearModel({ weights: [W], bias: [B], sigmoid: true, squeeze: true });
    const scorer = await OnnxScorer.create(options(model, { batchRows: 3 }));
    try {
      const features = featureMatrix(10);
      expectClose(await scorer.score(features, 10), expectedLinear(features, 10, W, B, sigmoid));
    } finally {
      await scorer.release();
    }
  });

  // The npm install here has no CUDA provider libraries; on a CUDA host these two are skipped
  // and the device checks run on the GPU machine instead.
  const cpuOnly = !process.env['CHURN_TEST_CUDA'];
  const onCpuOnlyBuild = cpuOnly ? it : it.skip;

  onCpuOnlyBuild('device auto falls back to the CPU (this build has no CUDA, this host no GPU), logs why, and reports cpu', async () => {
    const log: string[] = [];
    const scorer = await OnnxScorer.create(options(probabilityModel, { device: 'auto', log: (m) => log.push(m) }));
    try {
      expect(scorer.device).toBe('cpu');
      expect(log).toHaveLength(1);
      expect(log[0]).toMatch(/^execution provider fallback: cuda: [^;]+; webgpu: .+; using cpu$/);
      expect(scorer.fallbacks).toEqual([expect.stringMatching(/^cuda: provider libraries not installed/), expect.stringMatching(/^webgpu: /)]);
      const features = featureMatrix(2);
      expectClose(await scorer.score(features, 2), expectedLinear(features, 2, W, B, sigmoid));
    } finally {
      await scorer.release();
    }
  });

  onCpuOnlyBuild('device auto tries WebGPU where a Vulkan driver is declared, and falls back to the CPU when it has no adapter', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'churn-vulkan-'));
    const saved = { LD_LIBRARY_PATH: process.env['LD_LIBRARY_PATH'], VK_DRIVER_FILES: process.env['VK_DRIVER_FILES'] };
    try {
      // A loader and a hardware driver manifest as file names: enough for auto to ask ONNX
      // Runtime, which finds no GPU adapter on this host (the loader already in place, if any,
      // is what Dawn loads: LD_LIBRARY_PATH is read when the process starts).
      writeFileSync(path.join(dir, 'libvulkan.so.1'), '');
      writeFileSync(path.join(dir, 'nvidia_icd.json'), '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3"}}');
      process.env['LD_LIBRARY_PATH'] = dir;
      process.env['VK_DRIVER_FILES'] = path.join(dir, 'nvidia_icd.json');
      const scorer = await OnnxScorer.create(options(probabilityModel, { device: 'auto' }));
      try {
        expect(scorer.device).toBe('cpu');
        expect(scorer.fallbacks).toHaveLength(2);
        expect(scorer.fallbacks[1]).toMatch(/^webgpu: /);
        expect(scorer.fallbacks[1]).not.toMatch(/no Vulkan/);
      } finally {
        await scorer.release();
      }
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses --device webgpu without a GPU with DEVICE_UNAVAILABLE naming what WebGPU needs', async () => {
    if (webgpuHostProblem() === undefined) return; // a host with a Vulkan driver: the GPU machine's kit covers it
    const error = await churnErrorOf(OnnxScorer.create(options(probabilityModel, { device: 'webgpu' })));
    expect(error.code).toBe('DEVICE_UNAVAILABLE');
    expect(error.message).toContain('webgpu: ');
    expect(error.message).toContain('Vulkan loader (libvulkan.so.1)');
    expect(error.settings).toEqual(['device']);
  });

  it('logs nothing when the requested device works', async () => {
    const log: string[] = [];
    const scorer = await OnnxScorer.create(options(probabilityModel, { device: 'cpu', log: (m) => log.push(m) }));
    await scorer.release();
    expect(log).toEqual([]);
  });

  onCpuOnlyBuild('refuses with DEVICE_UNAVAILABLE when no candidate provider loads (cuda on this CPU build)', async () => {
    const error = await churnErrorOf(OnnxScorer.create(options(probabilityModel, { device: 'cuda' })));
    expect(error.code).toBe('DEVICE_UNAVAILABLE');
    expect(error.message).toContain('cuda: ');
    expect(error.message).not.toContain('--device');
    expect(error.settings).toEqual(['device']);
    expect(error.details['failures']).toEqual([expect.stringMatching(/^cuda: /)]);
  });

  it('refuses a model whose input name, feature count and output name differ, listing every problem', async () => {
    const error = await churnErrorOf(OnnxScorer.create(options(probabilityModel, { inputName: 'x', outputName: 'prob', featureCount: 4 })));
    expect(error.code).toBe('MODEL_MISMATCH');
    expect(error.message).toContain('the ONNX model does not match its bundle');
    expect(error.message).toContain('the graph has no input "x" (inputs: features)');
    expect(error.message).toContain('the graph has no output "prob" (outputs: churn_probability)');
    expect(error.details['problems']).toHaveLength(2);

    const width = await churnErrorOf(OnnxScorer.create(options(probabilityModel, { featureCount: 4 })));
    expect(width.code).toBe('MODEL_MISMATCH');
    expect(width.message).toContain('input "features" takes 3 features but the bundle lists 4');

    const column = await churnErrorOf(OnnxScorer.create(options(probabilityModel, { probabilityIndex: 1 })));
    expect(column.code).toBe('MODEL_MISMATCH');
    expect(column.message).toContain('output "churn_probability" has 1 column(s) but the bundle reads column 1');
  });

  it('checks the graph against the bundle on the fallback device too', async () => {
    const error = await churnErrorOf(OnnxScorer.create(options(probabilityModel, { device: 'auto', featureCount: 5 })));
    expect(error.code).toBe('MODEL_MISMATCH');
  });

  it('refuses bytes that are not an ONNX model as a bundle error, not a device error', async () => {
    for (const device of ['cpu', 'auto'] as const) {
      const error = await churnErrorOf(OnnxScorer.create(options(new TextEncoder().encode('definitely not onnx'), { device })));
      expect(error.code).toBe('INVALID_BUNDLE');
      expect(error.message).toMatch(/^ONNX Runtime cannot load the bundle's model: /);
      expect(error.message).not.toContain('--device');
    }
  });
});

describe('inspectModel', () => {
  it('returns input and output names, element types and shapes', async () => {
    const signature = await inspectModel(linearModel({ weights: [W, W], bias: [0, 0], sigmoid: true, inputName: 'input', outputName: 'probabilities' }));
    expect(signature).toEqual({
      inputs: [{ name: 'input', elementType: 'float32', shape: ['batch', 3] }],
      outputs: [{ name: 'probabilities', elementType: 'float32', shape: ['batch', 2] }],
    });
  });

  it('refuses garbage with MODEL_MISMATCH', async () => {
    const error = await churnErrorOf(inspectModel(Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3])));
    expect(error.code).toBe('MODEL_MISMATCH');
    expect(error.message).toMatch(/^not a loadable ONNX model: /);
    await expect(inspectModel(new Uint8Array(0))).rejects.toMatchObject({ code: 'MODEL_MISMATCH' });
  });
});

describe('signatureProblems', () => {
  const expected = { inputName: 'features', outputName: 'p', featureCount: 3, probabilityIndex: 0 };
  const good: ModelSignature = {
    inputs: [{ name: 'features', elementType: 'float32', shape: ['batch', 3] }],
    outputs: [{ name: 'p', elementType: 'float32', shape: ['batch', 1] }],
  };

  it('is empty when the graph agrees with the bundle, including symbolic or unknown widths', () => {
    expect(signatureProblems(good, expected)).toEqual([]);
    const symbolic: ModelSignature = {
      inputs: [{ name: 'features', elementType: 'float32', shape: [-1, 'width'] }],
      outputs: [{ name: 'p', elementType: 'float32', shape: ['batch'] }],
    };
    expect(signatureProblems(symbolic, expected)).toEqual([]);
    expect(signatureProblems({ ...good, outputs: [{ name: 'p', elementType: 'float32', shape: ['batch', -1] }] }, { ...expected, probabilityIndex: 5 })).toEqual([]);
  });

  it('reports wrong element types, ranks and extra inputs', () => {
    const bad: ModelSignature = {
      inputs: [
        { name: 'features', elementType: 'float64', shape: ['batch', 3, 1] },
        { name: 'mask', elementType: 'float32', shape: ['batch'] },
      ],
      outputs: [{ name: 'p', elementType: 'int64', shape: ['batch', 2, 2] }],
    };
    expect(signatureProblems(bad, expected)).toEqual([
      'input "features" has element type float64, expected float32',
      'input "features" has shape [batch, 3, 1], expected [batch, 3]',
      'the graph has 2 inputs; a churn model must take one [batch, features] float32 tensor',
      'output "p" has element type int64, expected float32 (export scikit-learn classifiers with zipmap=False)',
      'output "p" has shape [batch, 2, 2], expected [batch] or [batch, k]',
    ]);
  });
});

describe('parseDevice / candidateDevices', () => {
  it('accepts every listed device', () => {
    for (const device of DEVICES) expect(parseDevice(device)).toBe(device);
    expect(DEVICES).toEqual(['auto', 'cpu', 'cuda', 'webgpu']);
  });

  it('refuses an unknown device with INVALID_ARGUMENT listing the valid ones', () => {
    let error: unknown;
    try {
      parseDevice('tpu');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ChurnError);
    expect((error as ChurnError).code).toBe('INVALID_ARGUMENT');
    expect((error as ChurnError).message).toBe('unknown device "tpu"; use one of: auto, cpu, cuda, webgpu');
    expect((error as ChurnError).details).toEqual({ device: 'tpu' });
    expect(() => parseDevice('CPU')).toThrow(ChurnError);
    expect(() => parseDevice('')).toThrow(ChurnError);
  });

  it('tries CUDA, then WebGPU, then CPU for auto, and only the named provider otherwise', () => {
    expect(candidateDevices('auto')).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(candidateDevices('cpu')).toEqual(['cpu']);
    expect(candidateDevices('cuda')).toEqual(['cuda']);
    expect(candidateDevices('webgpu')).toEqual(['webgpu']);
  });
});

describe('webgpuHostProblem', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'churn-vulkan-root-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const put = (rel: string, text = '') => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  };

  it('names the missing Vulkan loader first', () => {
    expect(webgpuHostProblem({ systemRoot: root, env: {} })).toBe('no Vulkan loader (libvulkan.so.1) found');
  });

  it('needs a driver manifest beside the loader', () => {
    put('usr/lib/x86_64-linux-gnu/libvulkan.so.1');
    expect(webgpuHostProblem({ systemRoot: root, env: {} })).toBe('no Vulkan driver manifest (ICD .json) found');
  });

  it('does not count software drivers (lavapipe, SwiftShader) as a GPU', () => {
    put('usr/lib/x86_64-linux-gnu/libvulkan.so.1');
    put('usr/share/vulkan/icd.d/lvp_icd.x86_64.json', '{}');
    expect(webgpuHostProblem({ systemRoot: root, env: {} })).toBe('only software Vulkan drivers found (lvp_icd.x86_64.json)');
  });

  it('accepts a hardware driver in the icd.d folders or declared by VK_DRIVER_FILES, and a loader on LD_LIBRARY_PATH', () => {
    put('usr/lib64/libvulkan.so.1');
    put('etc/vulkan/icd.d/nvidia_icd.json', '{}');
    expect(webgpuHostProblem({ systemRoot: root, env: {} })).toBeUndefined();
    put('nvidia/lib/libvulkan.so.1');
    put('nvidia/icd/nvidia_icd.json', '{}');
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'churn-vulkan-none-'));
    try {
      const env = { LD_LIBRARY_PATH: path.join(root, 'nvidia/lib'), VK_DRIVER_FILES: path.join(root, 'nvidia/icd/nvidia_icd.json') };
      expect(webgpuHostProblem({ systemRoot: elsewhere, env })).toBeUndefined();
      // A declared file that does not exist counts for nothing (the loader then finds none).
      expect(webgpuHostProblem({ systemRoot: elsewhere, env: { ...env, VK_DRIVER_FILES: path.join(root, 'missing.json') } })).toBe('no Vulkan driver manifest (ICD .json) found');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

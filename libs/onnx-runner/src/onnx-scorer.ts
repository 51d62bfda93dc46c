import { InferenceSession, Tensor, env as ortEnv, type InferenceSession as Session } from 'onnxruntime-node';
import { ChurnError } from '@churn/errors';
import { autoSkipReason, candidateDevices, type Device, type ResolvedDevice } from './execution-provider';

const ORT_VERSION = ortEnv.versions?.common ?? '1.x';

/** What the ONNX graph declares about one input or output. */
export interface TensorInfo {
  name: string;
  elementType: string;
  /** Dimensions; symbolic ones (batch) are strings or -1. */
  shape: (number | string)[];
}

export interface ModelSignature {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

export interface ScorerOptions {
  modelBytes: Uint8Array;
  inputName: string;
  outputName: string;
  /** Column of the output holding P(churn). */
  probabilityIndex: number;
  outputKind: 'probability' | 'logit';
  featureCount: number;
  device: Device;
  /** Rows per session.run (default: defaultBatchRows of the provider in use). */
  batchRows?: number;
  /** ONNX Runtime intra-op threads (default: ORT's choice, all cores). */
  intraOpThreads?: number;
  log?: (message: string) => void;
}

function describeShape(info: TensorInfo): string {
  return `[${info.shape.join(', ')}]`;
}

function signatureOf(session: Session): ModelSignature {
  const map = (meta: readonly InferenceSession.ValueMetadata[]): TensorInfo[] =>
    meta.map((m) =>
      m.isTensor
        ? { name: m.name, elementType: m.type, shape: m.shape.map((d) => (typeof d === 'number' ? d : String(d))) }
        : { name: m.name, elementType: 'non-tensor', shape: [] },
    );
  return { inputs: map(session.inputMetadata), outputs: map(session.outputMetadata) };
}

async function createSession(modelBytes: Uint8Array, device: ResolvedDevice, intraOpThreads?: number): Promise<Session> {
  return InferenceSession.create(modelBytes, {
    executionProviders: [device],
    graphOptimizationLevel: 'all',
    ...(intraOpThreads ? { intraOpNumThreads: intraOpThreads } : {}),
  });
}

/**
 * Rows per session.run when the run names none. On the CPU, 16,384: a batch's intermediate
 * activations then stay in cache between the graph's nodes, where 65,536 rows spill them to
 * memory; the committed MLP evaluated at 36 ns a row in 16,384-row batches against 55-79 ns in
 * 65,536-row ones (one thread, 2^20 random rows), which is most of an explained run's time.
 * GPU providers keep 65,536: a kernel launch costs more there, and device memory is not the L2.
 */
export function defaultBatchRows(device: ResolvedDevice): number {
  return device === 'cpu' ? 16_384 : 65_536;
}

/** Reads an ONNX model's inputs and outputs (names, element types, shapes) without scoring. */
export async function inspectModel(modelBytes: Uint8Array): Promise<ModelSignature> {
  let session: Session;
  try {
    session = await createSession(modelBytes, 'cpu');
  } catch (cause) {
    throw new ChurnError('MODEL_MISMATCH', `not a loadable ONNX model: ${(cause as Error).message}`, { cause });
  }
  try {
    return signatureOf(session);
  } finally {
    await session.release();
  }
}

/** Problems between what a bundle says and what the graph declares; empty when they agree. */
export function signatureProblems(signature: ModelSignature, expected: Pick<ScorerOptions, 'inputName' | 'outputName' | 'featureCount' | 'probabilityIndex'>): string[] {
  const problems: string[] = [];
  const input = signature.inputs.find((i) => i.name === expected.inputName);
  if (!input) {
    problems.push(`the graph has no input "${expected.inputName}" (inputs: ${signature.inputs.map((i) => i.name).join(', ')})`);
  } else {
    if (input.elementType !== 'float32') problems.push(`input "${input.name}" has element type ${input.elementType}, expected float32`);
    const width = input.shape[1];
    if (input.shape.length !== 2) problems.push(`input "${input.name}" has shape ${describeShape(input)}, expected [batch, ${expected.featureCount}]`);
    else if (typeof width === 'number' && width > 0 && width !== expected.featureCount) {
      problems.push(`input "${input.name}" takes ${width} features but the bundle lists ${expected.featureCount}`);
    }
  }
  if (signature.inputs.length > 1) problems.push(`the graph has ${signature.inputs.length} inputs; a churn model must take one [batch, features] float32 tensor`);
  const output = signature.outputs.find((o) => o.name === expected.outputName);
  if (!output) {
    const zipMap = signature.outputs.find((o) => o.elementType === 'non-tensor');
    problems.push(
      `the graph has no output "${expected.outputName}" (outputs: ${signature.outputs.map((o) => o.name).join(', ')})` +
        (zipMap ? `; "${zipMap.name}" is not a tensor (a ZipMap of per-class maps): re-convert the model with zipmap=False to get a float [batch, 2] probabilities output` : ''),
    );
  } else {
    if (output.elementType !== 'float32') {
      problems.push(`output "${output.name}" has element type ${output.elementType}, expected float32 (export scikit-learn classifiers with zipmap=False)`);
    }
    const width = output.shape.length === 1 ? 1 : output.shape[1];
    if (output.shape.length > 2) problems.push(`output "${output.name}" has shape ${describeShape(output)}, expected [batch] or [batch, k]`);
    else if (typeof width === 'number' && width > 0 && expected.probabilityIndex >= width) {
      problems.push(`output "${output.name}" has ${width} column(s) but the bundle reads column ${expected.probabilityIndex}`);
    }
  }
  return problems;
}

/** Scores one all-zero row; returns why it failed, or undefined. */
async function probeRun(session: Session, options: ScorerOptions): Promise<string | undefined> {
  try {
    const input = new Tensor('float32', new Float32Array(options.featureCount), [1, options.featureCount]);
    const result = await session.run({ [options.inputName]: input });
    const output = result[options.outputName];
    const ok = output !== undefined && output.data.length > 0;
    for (const value of Object.values(result)) value.dispose();
    return ok ? undefined : `no output "${options.outputName}"`;
  } catch (cause) {
    return (cause as Error).message.split('\n')[0] ?? String(cause);
  }
}

/** Column `index` of a row-major output `stride` wide into `out` from `at`, as probabilities. */
function copyProbabilities(data: Float32Array, stride: number, index: number, kind: 'probability' | 'logit', out: Float32Array, at: number, count: number): void {
  for (let i = 0; i < count; i++) {
    const v = data[i * stride + index]!;
    out[at + i] = kind === 'logit' ? 1 / (1 + Math.exp(-v)) : v;
  }
}

/**
 * An ONNX session bound to one bundle: checks the graph against the bundle at load, picks the
 * execution provider, and scores a row-major feature matrix in large batches.
 */
export class OnnxScorer {
  private constructor(
    private readonly session: Session,
    private readonly options: ScorerOptions,
    /** The execution provider actually in use. */
    readonly device: ResolvedDevice,
    /** Why each provider `auto` tried before this one was not used (`cuda: ...`); empty otherwise. */
    readonly fallbacks: readonly string[],
  ) {}

  static async create(options: ScorerOptions): Promise<OnnxScorer> {
    const failures: string[] = [];
    for (const device of candidateDevices(options.device)) {
      const skip = options.device === 'auto' ? autoSkipReason(device) : undefined;
      if (skip) {
        failures.push(`${device}: ${skip}`);
        continue;
      }
      let session: Session;
      try {
        session = await createSession(options.modelBytes, device, options.intraOpThreads);
      } catch (cause) {
        const reason = (cause as Error).message.split('\n')[0] ?? String(cause);
        // The CPU provider runs every standard operator: if it cannot load the model, the model
        // (the bundle) is at fault, not the host.
        if (device === 'cpu') {
          throw new ChurnError('INVALID_BUNDLE', `ONNX Runtime cannot load the bundle's model: ${reason}; re-export the model (or rebuild the bundle) with operators ONNX Runtime ${ORT_VERSION} supports`, {
            cause,
            details: { device, reason, failures },
          });
        }
        failures.push(`${device}: ${reason}`);
        continue;
      }
      const problems = signatureProblems(signatureOf(session), options);
      if (problems.length > 0) {
        await session.release();
        throw new ChurnError('MODEL_MISMATCH', `the ONNX model does not match its bundle:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
          details: { problems },
        });
      }
      // `auto` takes a GPU provider only once it has scored: a session can load and still fail
      // on its first run (an adapter lost, a kernel the provider lacks).
      if (options.device === 'auto' && device !== 'cpu') {
        const probe = await probeRun(session, options);
        if (probe) {
          await session.release();
          failures.push(`${device}: loaded but could not score (${probe})`);
          continue;
        }
      }
      if (failures.length > 0) options.log?.(`execution provider fallback: ${failures.join('; ')}; using ${device}`);
      return new OnnxScorer(session, options, device, failures);
    }
    const remedy =
      options.device === 'webgpu'
        ? "run on a GPU host with the Vulkan loader (libvulkan.so.1) and the GPU vendor's Vulkan driver"
        : 'install the CUDA build of onnxruntime-node (ONNXRUNTIME_NODE_INSTALL=cuda12) on a GPU host';
    throw new ChurnError('DEVICE_UNAVAILABLE', `execution provider ${options.device} is not available on this host (${failures.join('; ')}); choose the cpu device, or ${remedy}`, {
      details: { device: options.device, failures },
      settings: ['device'],
    });
  }

  get batchRows(): number {
    return this.options.batchRows ?? defaultBatchRows(this.device);
  }

  /**
   * Scores `rows` rows of `features` (row-major, featureCount wide) and returns P(churn) per row.
   * Batches share the input buffer through subarray views, so no copies are made.
   */
  async score(features: Float32Array, rows: number, onBatch?: (rows: number, ms: number) => void): Promise<Float32Array> {
    const width = this.options.featureCount;
    const out = new Float32Array(rows);
    const { probabilityIndex, outputKind, inputName, outputName } = this.options;
    for (let start = 0; start < rows; start += this.batchRows) {
      const count = Math.min(this.batchRows, rows - start);
      const input = new Tensor('float32', features.subarray(start * width, (start + count) * width), [count, width]);
      const began = performance.now();
      const result = await this.session.run({ [inputName]: input });
      onBatch?.(count, performance.now() - began);
      const tensor = result[outputName];
      if (!tensor) throw new ChurnError('MODEL_MISMATCH', `the model returned no output "${outputName}"`);
      const data = tensor.data as Float32Array;
      const stride = tensor.dims.length === 2 ? Number(tensor.dims[1]) : 1;
      if (stride === 1 && probabilityIndex === 0 && outputKind === 'probability') out.set(data.subarray(0, count), start);
      else copyProbabilities(data, stride, probabilityIndex, outputKind, out, start, count);
      for (const value of Object.values(result)) value.dispose();
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

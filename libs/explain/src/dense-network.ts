import { ChurnError } from '@churn/errors';
import { COALITION_WALK_WASM } from './coalition-walk-wasm';

/**
 * A one-hidden-layer ReLU network read from a model's ONNX graph (model-trainer's
 * `readDenseNetwork`): logit(P) = w2 . relu(W1 x + b1) + b2. Exact Shapley values then take
 * every coalition's logit from the coalition walk (coalition-walk.wat) instead of the session.
 */
export interface DenseNetwork {
  /** Input width (feature count). */
  inputs: number;
  /** Hidden units. */
  hidden: number;
  /** Hidden-layer weights, row-major [hidden][inputs] (ONNX Gemm weights with transB=1). */
  w1: Float32Array;
  /** Hidden-layer biases, [hidden]. */
  b1: Float32Array;
  /** Output weights, [hidden]. */
  w2: Float32Array;
  /** Output bias (a float32 value). */
  b2: number;
}

/** Checks a network's shapes against the model's input width. */
export function checkDenseNetwork(network: DenseNetwork, featureCount: number): void {
  const { inputs, hidden } = network;
  const problems = [
    inputs !== featureCount ? `it takes ${inputs} inputs, the model ${featureCount}` : '',
    network.w1.length !== inputs * hidden ? `w1 has ${network.w1.length} values for ${hidden} x ${inputs}` : '',
    network.b1.length !== hidden ? `b1 has ${network.b1.length} values for ${hidden} hidden units` : '',
    network.w2.length !== hidden ? `w2 has ${network.w2.length} values for ${hidden} hidden units` : '',
  ].filter(Boolean);
  if (problems.length > 0) throw new ChurnError('MODEL_MISMATCH', `the dense network read from the model is inconsistent: ${problems.join('; ')}`, { details: { problems } });
}

let walkModule: WebAssembly.Module | undefined;

function coalitionWalkModule(): WebAssembly.Module {
  walkModule ??= new WebAssembly.Module(Uint8Array.from(atob(COALITION_WALK_WASM), (c) => c.charCodeAt(0)));
  return walkModule;
}

type WalkFunction = (n: number, h4: number, delta: number, levels: number, h0: number, zero: number, ptr: number, w2: number, b2: number, out: number) => void;
type ChainFunction = (h4: number, delta: number, orders: number, walks: number, steps: number, h0: number, h: number, w2: number, b2: number, out: number) => void;
type ValuesFunction = (src: number, count: number, dst: number, logit: number, limit: number) => void;
type ShapleyFunction = (n: number, value: number, coef: number, outside: number, phi: number, share: number) => void;

/** What a walker is sized for. */
export interface WalkSize {
  /** The most player columns a row fills: its active players for `logits`, the layout's player count for `chainLogits`. */
  columns: number;
  /** The most players `logits` walks (2^walkPlayers coalitions); 0 when it is not used. */
  walkPlayers?: number;
  /** The most points one `chainLogits` call computes; 0 when it is not used. */
  chainPoints?: number;
}

/** How the player columns of a row are laid out: by position in the row's player list (walk), or by player index (chain). */
type ColumnSlot = 'position' | 'player';

/**
 * A model's values over coalitions of a row's players against one baseline, computed in
 * WebAssembly (coalition-walk.wat) from the network's weights instead of by ONNX Runtime:
 * - `logits`: all 2^n coalitions of the row's n active players, for exact Shapley: one float32
 *   vector add per coalition from an earlier one (four coalitions sharing their loads), fused
 *   with the ReLU and the output layer;
 * - `chainLogits`: the points of sampling Shapley's permutation walks, one add per point from
 *   the one before;
 * - `values`: the last call's logits mapped to the output space in float64.
 * On the committed MLP (48 hidden units, up to 14 players) the walk takes about 7-8 ns a
 * coalition and the values about 5 ns, against 36 ns for ONNX Runtime plus 12 ns to build the
 * row it needs (docs/decisions.md has the figures).
 */
export class CoalitionLogits {
  private readonly walk: WalkFunction;
  private readonly chain: ChainFunction;
  private readonly toValues: ValuesFunction;
  private readonly fold: ShapleyFunction;
  /** The player count whose weights are in the coef and outside tables. */
  private weightsOf = -1;
  /** The module's memory as floats, ints and doubles; it grows only in the constructor, so the views stay valid. */
  private readonly floats: Float32Array;
  private readonly ints: Int32Array;
  private readonly doubles: Float64Array;
  /** Hidden units rounded up to whole f32x4 vectors (padding lanes have zero weights). */
  private readonly lanes: number;
  private readonly stride: number;
  /** How many logits the out and values regions hold. */
  private readonly slots: number;
  private readonly at: { delta: number; levels: number; h0: number; zero: number; ptr: number; w2: number; orders: number; coef: number; outside: number; phi: number; out: number; values: number };
  /** inputs x lanes: column f of W1 (the hidden units' weights on input f), padded. */
  private readonly columns: Float32Array;
  /** Logits written by the last logits or chainLogits call. */
  private written = 0;

  constructor(
    private readonly network: DenseNetwork,
    baseline: Float32Array,
    size: WalkSize,
  ) {
    const { columns: maxPlayers, walkPlayers = 0, chainPoints = 0 } = size;
    const { inputs, hidden, w1, b1 } = network;
    const instance = new WebAssembly.Instance(coalitionWalkModule(), {});
    const { memory, walk, chain, values, shapley } = instance.exports;
    if (!(memory instanceof WebAssembly.Memory) || [walk, chain, values, shapley].some((f) => typeof f !== 'function')) {
      throw new ChurnError('INTERNAL', 'the coalition walk module lacks its exports (memory, walk, chain, values, shapley); rebuild it with npm run build:wasm');
    }
    this.fold = shapley as ShapleyFunction;
    this.walk = walk as WalkFunction;
    this.chain = chain as ChainFunction;
    this.toValues = values as ValuesFunction;
    this.lanes = Math.ceil(hidden / 4) * 4;
    this.stride = this.lanes * 4;
    // At least 4 slots (the walk writes four coalitions at a time), and an even number (values
    // converts pairs).
    this.slots = 2 * Math.ceil(Math.max(4, walkPlayers > 0 ? 2 ** walkPlayers : 0, chainPoints) / 2);
    const align = (bytes: number) => Math.ceil(bytes / 16) * 16;
    const delta = 0;
    const levels = delta + maxPlayers * this.stride;
    const h0 = levels + Math.max(1, maxPlayers) * this.stride;
    const zero = h0 + this.stride;
    const ptr = zero + this.stride;
    const w2 = ptr + align((maxPlayers + 1) * 4);
    const orders = w2 + this.stride;
    const coef = orders + align(4 * Math.max(1, chainPoints));
    const outside = coef + align(8 * (maxPlayers + 1));
    const phi = outside + align(8 * (maxPlayers + 1));
    const out = phi + align(8 * Math.max(1, maxPlayers));
    const valuesAt = out + 4 * this.slots;
    const top = valuesAt + 8 * this.slots;
    const missing = top - memory.buffer.byteLength;
    if (missing > 0) memory.grow(Math.ceil(missing / 65_536));
    this.at = { delta, levels, h0, zero, ptr, w2, orders, coef, outside, phi, out, values: valuesAt };
    this.columns = new Float32Array(inputs * this.lanes);
    for (let j = 0; j < hidden; j++) for (let f = 0; f < inputs; f++) this.columns[f * this.lanes + j] = w1[j * inputs + f]!;
    const floats = new Float32Array(memory.buffer);
    this.floats = floats;
    this.ints = new Int32Array(memory.buffer);
    this.doubles = new Float64Array(memory.buffer);
    for (let j = 0; j < hidden; j++) {
      let z = b1[j]!;
      for (let f = 0; f < inputs; f++) z += w1[j * inputs + f]! * baseline[f]!;
      floats[h0 / 4 + j] = z;
      floats[w2 / 4 + j] = network.w2[j]!;
    }
  }

  /**
   * Fills the player columns for row `x` (at element `offset` of `features`): player p's column
   * is the sum over its features f of (x_f - b_f) W1[:, f], at slot t (its position in
   * `players`) or at slot p.
   */
  private fillColumns(n: number, players: Int32Array, slot: ColumnSlot, start: Int32Array, featureOf: Int32Array, features: Float32Array, offset: number, baseline: Float32Array): void {
    const { floats, lanes, columns } = this;
    for (let t = 0; t < n; t++) {
      const p = players[t]!;
      const column = (this.at.delta + (slot === 'position' ? t : p) * this.stride) / 4;
      floats.fill(0, column, column + lanes);
      for (let q = start[p]!, end = start[p + 1]!; q < end; q++) {
        const f = featureOf[q]!;
        const d = features[offset + f]! - baseline[f]!;
        if (d === 0) continue;
        for (let j = 0, c = f * lanes; j < lanes; j++) floats[column + j] = floats[column + j]! + d * columns[c + j]!;
      }
    }
  }

  /**
   * Walks the 2^n coalitions of row `x`'s n >= 2 active players (`players`) and returns their
   * logits (a view of the module's memory, valid until the next call).
   */
  logits(n: number, players: Int32Array, start: Int32Array, featureOf: Int32Array, features: Float32Array, offset: number, baseline: Float32Array): Float32Array {
    if (n < 2 || 2 ** n > this.slots) throw new ChurnError('INTERNAL', `the coalition walk takes 2 to ${Math.log2(this.slots)} players, got ${n}`);
    this.fillColumns(n, players, 'position', start, featureOf, features, offset, baseline);
    const { delta, levels, h0, zero, ptr, w2, out } = this.at;
    this.walk(n, this.lanes / 4, delta, levels, h0, zero, ptr, w2, this.network.b2, out);
    this.written = 2 ** n;
    return this.floats.subarray(out / 4, out / 4 + this.written);
  }

  /**
   * The logits along `walks` walks from the baseline towards row `x`: walk w adds player
   * orders[w * steps + s] at step s, and point s is the coalition after that step. `players`
   * lists the n players the orders use. Returns walks x steps logits (a view, valid until the
   * next call).
   */
  chainLogits(n: number, players: Int32Array, start: Int32Array, featureOf: Int32Array, features: Float32Array, offset: number, baseline: Float32Array, orders: Int32Array, walks: number, steps: number): Float32Array {
    const points = walks * steps;
    if (points > this.slots || orders.length < points) throw new ChurnError('INTERNAL', `a chain of ${points} points does not fit the walk's ${this.slots} slots`);
    this.fillColumns(n, players, 'player', start, featureOf, features, offset, baseline);
    const { delta, h0, levels, w2, orders: ordersAt, out } = this.at;
    this.ints.set(orders.subarray(0, points), ordersAt / 4);
    // The running point lives in the first level vector (the exact walk's scratch).
    this.chain(this.lanes / 4, delta, ordersAt, walks, steps, h0, levels, w2, this.network.b2, out);
    this.written = points;
    return this.floats.subarray(out / 4, out / 4 + points);
  }

  /**
   * The Shapley values of the n players of the last `logits` call from the coalition values of
   * the last `values` call (which it overwrites), into phi[0..n): exact-shapley.ts's fold in
   * WebAssembly, two masks at a time. `weight[s]` is the Shapley weight of a coalition of size
   * s < n; values within `share` of the largest |value| are written as 0.
   */
  shapley(n: number, weight: Float64Array, share: number, phi: Float64Array): void {
    const { values, coef, outside, phi: phiAt } = this.at;
    if (this.weightsOf !== n) {
      for (let s = 0; s <= n; s++) {
        const out = s < n ? weight[s]! : 0;
        this.doubles[outside / 8 + s] = out;
        this.doubles[coef / 8 + s] = out + (s > 0 ? weight[s - 1]! : 0);
      }
      this.weightsOf = n;
    }
    this.fold(n, values, coef, outside, phiAt, share);
    phi.set(this.doubles.subarray(phiAt / 8, phiAt / 8 + n));
  }

  /**
   * f(baseline) as the walks compute it (probability, float64 from the float32 logit): the
   * chain's arithmetic on an all-zero column, so that a player whose column is all zeros adds
   * exactly nothing to it. Overwrites the last call's logits.
   */
  baselineValue(): number {
    const { delta, h0, zero, levels, w2, orders, out, values } = this.at;
    this.ints[orders / 4] = (zero - delta) / this.stride;
    this.chain(this.lanes / 4, delta, orders, 1, 1, h0, levels, w2, this.network.b2, out);
    this.toValues(out, 2, values, 0, 0);
    this.written = 0;
    return this.doubles[values / 8]!;
  }

  /**
   * The logits of the last `logits` or `chainLogits` call in the output space, float64: the
   * probability 1 / (1 + e^-z) (within 1e-14 of 1 / (1 + Math.exp(-z)), relative), or in logit
   * space the logit clamped to [-limit, limit]. A view of the module's memory, valid until the
   * next call; free to overwrite.
   */
  values(logitSpace: boolean, limit: number): Float64Array {
    const { out, values } = this.at;
    // The module converts pairs; an odd count converts one slot past the end, which is never read.
    this.toValues(out, this.written + (this.written % 2), values, logitSpace ? 1 : 0, limit);
    return this.doubles.subarray(values / 8, values / 8 + this.written);
  }
}

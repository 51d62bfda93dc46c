import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import wabtInit from 'wabt';
import { COALITION_WALK_WASM } from './coalition-walk-wasm';
import { CoalitionLogits, type DenseNetwork } from './dense-network';
import type { ModelEvaluator } from './explain-types';
import type { Player } from './players';
import { efficiencyGap, explainCase, makeCase, rowOf, SPACES } from './testing/explain-case';
import { bruteForceShapley, clampedLogit, sigmoid, testRandom, type RowModel } from './testing/test-models';

/** A seeded ReLU network and the same network as a plain per-row model (float64). */
function reluNetwork(inputs: number, hidden: number, seed: number, ignored: readonly number[] = []): { network: DenseNetwork; model: RowModel } {
  const rnd = testRandom(seed);
  const w1 = Float32Array.from({ length: hidden * inputs }, (_, k) => (ignored.includes(k % inputs) ? 0 : (rnd() - 0.5) * 2));
  const b1 = Float32Array.from({ length: hidden }, () => (rnd() - 0.5) * 0.8);
  const w2 = Float32Array.from({ length: hidden }, () => (rnd() - 0.5) * 3);
  const b2 = -0.4;
  const model: RowModel = (row) => {
    let z = b2;
    for (let j = 0; j < hidden; j++) {
      let a = b1[j]!;
      for (let i = 0; i < inputs; i++) a += w1[j * inputs + i]! * row[i]!;
      z += w2[j]! * Math.max(a, 0);
    }
    return sigmoid(z);
  };
  return { network: { inputs, hidden, w1, b1, w2, b2 }, model };
}

describe('exact Shapley over a dense network (the coalition walk)', () => {
  // 7 hidden units: not a multiple of the walk's 4 lanes, so the padding is exercised too.
  const { network, model } = reluNetwork(9, 7, 3, [8]);
  const players: Player[] = [
    { id: 'a', features: [0], actionable: true },
    { id: 'b', features: [1, 2], actionable: true },
    { id: 'c', features: [3], actionable: true },
    { id: 'd', features: [4, 5, 6], actionable: true },
    { id: 'e', features: [7], actionable: true },
    { id: 'ignored', features: [8], actionable: true },
  ];
  const c = makeCase(model, 9, 40, 12, players);
  // Some rows equal the baseline on some players (null players, left out of the walk).
  for (let r = 0; r < c.rows; r += 3) c.features[r * 9 + 3] = c.baseline[3]!;
  for (let r = 0; r < c.rows; r++) c.scores[r] = model(rowOf(c, r));
  const withNetwork: ModelEvaluator = { featureCount: 9, evaluate: (m, n) => c.evaluator.evaluate(m, n), network };

  for (const space of SPACES) {
    it(`equals brute force over player orders and the row-by-row exact plan (${space})`, async () => {
      const walked = await explainCase(c, { method: 'exact', space }, withNetwork);
      const evaluated = await explainCase(c, { method: 'exact', space });
      expect(walked.baseValue).toBeCloseTo(evaluated.baseValue, 9);
      expect(walked.evaluations).toBe(evaluated.evaluations);
      for (let i = 0; i < walked.contributions.length; i++) expect(Math.abs(walked.contributions[i]! - evaluated.contributions[i]!)).toBeLessThan(1e-5);
      for (let r = 0; r < 6; r++) {
        const expected = bruteForceShapley(c.model, rowOf(c, r), c.baseline, players, space === 'logit' ? clampedLogit : undefined);
        expected.forEach((v, p) => expect(Math.abs(walked.contributions[r * players.length + p]! - v)).toBeLessThan(1e-5));
      }
      expect(efficiencyGap(walked, c, space)).toBeLessThan(1e-4);
      // The feature the network ignores gets exactly 0.
      for (let r = 0; r < c.rows; r++) expect(walked.contributions[r * players.length + 5]).toBe(0);
    });
  }

  it('walks sampling\'s permutations through the network, as evaluating their rows does', async () => {
    for (const space of SPACES) {
      const walked = await explainCase(c, { method: 'sampling', permutations: 3, refine: false, space }, withNetwork);
      const evaluated = await explainCase(c, { method: 'sampling', permutations: 3, refine: false, space });
      expect(walked.evaluations).toBe(evaluated.evaluations);
      for (let i = 0; i < walked.contributions.length; i++) expect(Math.abs(walked.contributions[i]! - evaluated.contributions[i]!)).toBeLessThan(1e-5);
      expect(efficiencyGap(walked, c, space)).toBeLessThan(1e-4);
      for (let r = 0; r < c.rows; r++) expect(walked.contributions[r * players.length + 5]).toBe(0);
    }
  });

  it('refines close calls through the walk, as sampling with refinement does by evaluating rows', async () => {
    const walked = await explainCase(c, { method: 'sampling', permutations: 2, refine: true }, withNetwork);
    const evaluated = await explainCase(c, { method: 'sampling', permutations: 2, refine: true });
    // The same coalitions, less the baseline row the evaluated refinement scores again.
    expect(walked.evaluations).toBe(evaluated.evaluations - 1);
    for (let i = 0; i < walked.contributions.length; i++) expect(Math.abs(walked.contributions[i]! - evaluated.contributions[i]!)).toBeLessThan(1e-5);
    expect(efficiencyGap(walked, c, 'probability')).toBeLessThan(1e-4);
  });

  it('walks games of 2 and 3 players, the smallest the four-at-a-time walk takes', async () => {
    const small = makeCase(model, 9, 8, 21, players);
    // Rows 0-3: only players a and b differ from the baseline; rows 4-7: a, c and e.
    for (let r = 0; r < small.rows; r++) {
      const keep = r < 4 ? [0, 1, 2] : [0, 3, 7];
      for (let f = 0; f < 9; f++) if (!keep.includes(f)) small.features[r * 9 + f] = small.baseline[f]!;
      small.scores[r] = model(rowOf(small, r));
    }
    const walker: ModelEvaluator = { featureCount: 9, evaluate: (m, n) => small.evaluator.evaluate(m, n), network };
    for (const space of SPACES) {
      const walked = await explainCase(small, { method: 'exact', space }, walker);
      for (let r = 0; r < small.rows; r++) {
        const expected = bruteForceShapley(small.model, rowOf(small, r), small.baseline, players, space === 'logit' ? clampedLogit : undefined);
        expected.forEach((v, p) => expect(Math.abs(walked.contributions[r * players.length + p]! - v)).toBeLessThan(1e-5));
      }
    }
  });

  it('maps logits to probabilities as 1 / (1 + Math.exp(-z)) does, to 1e-14 relative, for logits up to hundreds', () => {
    let largest = 0;
    for (const scale of [1e-4, 0.1, 1, 10, 100, 1000]) {
      const { network: wide } = reluNetwork(3, 5, 11);
      const scaled: DenseNetwork = { ...wide, w2: wide.w2.map((w) => w * scale), b2: 0.25 * scale };
      const baseline = Float32Array.of(-1, 0.5, 2);
      const walker = new CoalitionLogits(scaled, baseline, { columns: 3, walkPlayers: 3 });
      const row = Float32Array.of(2, -1.5, -0.5);
      const z = Float64Array.from(walker.logits(3, Int32Array.of(0, 1, 2), Int32Array.of(0, 1, 2, 3), Int32Array.of(0, 1, 2), row, 0, baseline));
      const probability = Float64Array.from(walker.values(false, 0));
      z.forEach((v, m) => {
        const expected = 1 / (1 + Math.exp(-v));
        largest = Math.max(largest, Math.abs(v));
        expect(Math.abs(probability[m]! - expected)).toBeLessThanOrEqual(1e-14 * expected + 1e-300);
      });
      const clamped = walker.values(true, 7);
      z.forEach((v, m) => expect(clamped[m]).toBe(Math.min(7, Math.max(-7, v))));
    }
    // The largest scale takes the exponent to where the walk clamps it (|z| > 708).
    expect(largest).toBeGreaterThan(708);
  });

  it('is coalition-walk.wat as committed (after editing the .wat, run npm run build:wasm)', async () => {
    const wabt = await wabtInit();
    const source = path.join(__dirname, 'coalition-walk.wat');
    const module = wabt.parseWat(source, readFileSync(source, 'utf8'), { simd: true });
    module.validate();
    const bytes = Buffer.from(module.toBinary({}).buffer);
    module.destroy();
    expect(Buffer.from(COALITION_WALK_WASM, 'base64').equals(bytes)).toBe(true);
  });
});

import { ChurnError } from '@churn/errors';
import type { ExplainMethod, ModelEvaluator } from './explain-types';
import type { Player } from './players';
import { efficiencyGap, explainCase, makeCase, rowOf, SPACES, type Case } from './testing/explain-case';
import { bruteForceShapley, clampedLogit, logisticModel, mlpModel, scoresOf, type RowModel } from './testing/test-models';

describe('explainRows: efficiency', () => {
  const mlp = mlpModel(7, 6, 11);
  const logistic = logisticModel([0.8, -1.2, 0.3, 0, 2.1, -0.4, 0.9], -0.7);
  const methods: [ExplainMethod, RowModel][] = [
    ['exact', mlp],
    ['sampling', mlp],
    ['linear', logistic],
    ['linear', mlp],
  ];
  for (const [method, model] of methods) {
    for (const space of SPACES) {
      it(`${method} (${model === mlp ? 'MLP' : 'logistic'}, ${space}): base + sum = ${space === 'logit' ? 'logit(score)' : 'score'} within 1e-4 on 300 random rows`, async () => {
        const c = makeCase(model, 7, 300, 3);
        const result = await explainCase(c, { method, space, permutations: 3 });
        expect(result.contributions).toHaveLength(300 * 7);
        expect(efficiencyGap(result, c, space)).toBeLessThan(1e-4);
      });
    }
  }

  it('holds for extreme scores too (saturated probabilities, logit space)', async () => {
    const c = makeCase(logisticModel([6, -5, 4], 0), 3, 200, 5);
    expect(Math.max(...c.scores)).toBeGreaterThan(0.99999);
    for (const method of ['exact', 'sampling', 'linear'] as const) {
      expect(efficiencyGap(await explainCase(c, { method, space: 'logit' }), c, 'logit')).toBeLessThan(1e-4);
    }
  });
});

describe('explainRows: exactness', () => {
  it('exact equals a brute-force Shapley over all player orders on a non-linear model, in both spaces', async () => {
    const c = makeCase(mlpModel(6, 5, 21), 6, 25, 8);
    for (const space of SPACES) {
      const result = await explainCase(c, { method: 'exact', space });
      for (let r = 0; r < c.rows; r++) {
        const expected = bruteForceShapley(c.model, rowOf(c, r), c.baseline, c.players, space === 'logit' ? clampedLogit : undefined);
        expected.forEach((v, p) => expect(result.contributions[r * 6 + p]).toBeCloseTo(v, 5));
      }
      const fb = c.model(c.baseline);
      expect(result.baseValue).toBeCloseTo(space === 'logit' ? clampedLogit(fb) : fb, 6);
    }
  });

  it('linear equals the closed form w.(x - b) of a logistic model, with groups, mapped to probability proportionally', async () => {
    const weights = [0.8, -1.2, 0.3, 1.5, -0.6, 2];
    const c = makeCase(logisticModel(weights, -0.3), 6, 50, 9, [
      { id: 'a', features: [0], actionable: true },
      { id: 'plan', features: [1, 2, 5], actionable: false },
      { id: 'b', features: [3, 4], actionable: true },
    ]);
    const logitResult = await explainCase(c, { method: 'linear', space: 'logit' });
    const probResult = await explainCase(c, { method: 'linear', space: 'probability' });
    expect(logitResult.evaluations).toBe(7);
    expect(logitResult.linearResidual).toBeLessThan(1e-4);
    const lb = clampedLogit(c.model(c.baseline));
    for (let r = 0; r < c.rows; r++) {
      const x = rowOf(c, r);
      const closed = c.players.map((p) => p.features.reduce((s, f) => s + weights[f]! * (x[f]! - c.baseline[f]!), 0));
      closed.forEach((v, p) => expect(logitResult.contributions[r * 3 + p]).toBeCloseTo(v, 4));
      const fx = c.scores[r]!;
      const slope = (fx - c.model(c.baseline)) / (clampedLogit(fx) - lb);
      closed.forEach((v, p) => expect(probResult.contributions[r * 3 + p]).toBeCloseTo(v * slope, 5));
    }
  });

  it('linear flags a model that is not linear in logit space through linearResidual', async () => {
    const c = makeCase(mlpModel(5, 4, 3), 5, 100, 4);
    const result = await explainCase(c, { method: 'linear', space: 'logit' });
    expect(result.linearResidual).toBeGreaterThan(1e-2);
  });
});

describe('explainRows: Shapley axioms', () => {
  // f is symmetric in features 0 and 1 and ignores feature 4.
  const model: RowModel = (x) => 1 / (1 + Math.exp(-(Math.tanh(x[0]! + x[1]!) * x[2]! + 0.5 * x[0]! * x[1]! - 0.7 * x[3]! + 0.2)));
  function symmetricCase(rows: number): Case {
    const c = makeCase(model, 5, rows, 12);
    c.baseline[1] = c.baseline[0]!;
    for (let r = 0; r < rows; r++) c.features[r * 5 + 1] = c.features[r * 5]!;
    c.scores = scoresOf(model, c.features, rows, 5);
    return c;
  }

  it('exact: identical features get equal contributions and an ignored feature gets exactly 0', async () => {
    const c = symmetricCase(100);
    for (const space of SPACES) {
      const result = await explainCase(c, { method: 'exact', space });
      for (let r = 0; r < c.rows; r++) {
        expect(result.contributions[r * 5]).toBeCloseTo(result.contributions[r * 5 + 1]!, 6);
        expect(result.contributions[r * 5 + 4]).toBe(0);
      }
    }
  });

  it('sampling: identical features agree within tolerance and an ignored feature gets exactly 0', async () => {
    const c = symmetricCase(100);
    const result = await explainCase(c, { method: 'sampling', permutations: 64 });
    let gap = 0;
    for (let r = 0; r < c.rows; r++) {
      gap += Math.abs(result.contributions[r * 5]! - result.contributions[r * 5 + 1]!);
      expect(result.contributions[r * 5 + 4]).toBe(0);
    }
    expect(gap / c.rows).toBeLessThan(0.01);
  });

  it('linear: an ignored feature gets exactly 0', async () => {
    const c = makeCase(logisticModel([1, -1, 0, 2], 0.1), 4, 50, 13);
    const result = await explainCase(c, { method: 'linear', space: 'probability' });
    for (let r = 0; r < c.rows; r++) expect(result.contributions[r * 4 + 2]).toBe(0);
  });

  it('a one-hot group gets the exact group-level Shapley value (brute force over groups)', async () => {
    // Features 2..4 are a one-hot "plan": rows set exactly one of them; the model uses them non-linearly.
    const model: RowModel = (x) => 1 / (1 + Math.exp(-(0.9 * x[0]! - 0.4 * x[1]! + x[2]! * (1 + x[0]!) - 1.1 * x[3]! + 0.3 * x[4]! * x[1]! + 0.6 * x[5]!)));
    const players: Player[] = [
      { id: 'usage', features: [0], actionable: true },
      { id: 'tickets', features: [1], actionable: true },
      { id: 'plan', features: [2, 3, 4], actionable: false },
      { id: 'nps', features: [5], actionable: true },
    ];
    const c = makeCase(model, 6, 40, 14, players);
    for (let r = 0; r < c.rows; r++) for (let k = 0; k < 3; k++) c.features[r * 6 + 2 + k] = r % 3 === k ? 1 : 0;
    c.baseline.set([0.25, 0.5, 0.25], 2);
    c.scores = scoresOf(model, c.features, c.rows, 6);
    const exact = await explainCase(c, { method: 'exact' });
    const sampled = await explainCase(c, { method: 'sampling', permutations: 256 });
    let samplingError = 0;
    for (let r = 0; r < c.rows; r++) {
      const expected = bruteForceShapley(model, rowOf(c, r), c.baseline, players);
      expected.forEach((v, p) => expect(exact.contributions[r * 4 + p]).toBeCloseTo(v, 6));
      samplingError += Math.abs(sampled.contributions[r * 4 + 2]! - expected[2]!);
    }
    expect(samplingError / c.rows).toBeLessThan(2e-3);
  });
});

describe('explainRows: sampling convergence', () => {
  it('mean absolute error against exact shrinks as permutation pairs grow (8 players)', async () => {
    const c = makeCase(mlpModel(8, 8, 31), 8, 200, 15);
    const exact = await explainCase(c, { method: 'exact' });
    const errors: Record<number, number> = {};
    for (const pairs of [2, 8, 32]) {
      const sampled = await explainCase(c, { method: 'sampling', permutations: pairs });
      let sum = 0;
      for (let k = 0; k < exact.contributions.length; k++) sum += Math.abs(sampled.contributions[k]! - exact.contributions[k]!);
      errors[pairs] = sum / exact.contributions.length;
    }
    let scale = 0;
    for (const v of exact.contributions) scale += Math.abs(v);
    console.log(`sampling MAE vs exact (8 players, 200 rows, mean |exact| ${(scale / exact.contributions.length).toFixed(5)}): ${JSON.stringify(errors)}`);
    expect(errors[32]!).toBeLessThan(errors[8]!);
    expect(errors[8]!).toBeLessThan(errors[2]!);
    expect(errors[32]!).toBeLessThan(errors[2]! / 2.5);
  });
});

describe('explainRows: edge cases and refusals', () => {
  it('explains zero rows (one baseline evaluation) and single-player models', async () => {
    const empty = makeCase(mlpModel(3, 2, 1), 3, 0, 1);
    const none = await explainCase(empty, { method: 'sampling' });
    expect(none.contributions).toHaveLength(0);
    expect(none.evaluations).toBe(1);
    const one = makeCase(mlpModel(3, 2, 1), 3, 10, 2, [{ id: 'all', features: [0, 1, 2], actionable: true }]);
    for (const method of ['exact', 'sampling'] as const) {
      const result = await explainCase(one, { method });
      expect(result.evaluations).toBe(1);
      expect(efficiencyGap(result, one, 'probability')).toBeLessThan(1e-6);
    }
  });

  async function refusal(work: Promise<unknown>): Promise<ChurnError> {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChurnError);
    return error as ChurnError;
  }

  it('refuses exact Shapley beyond 14 players, pointing at sampling', async () => {
    const c = makeCase(mlpModel(15, 2, 1), 15, 2, 1);
    const error = await refusal(explainCase(c, { method: 'exact' }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/limited to 14 players.*15.*use method sampling/);
  });

  it('refuses players that do not partition the features, and inconsistent input', async () => {
    const c = makeCase(mlpModel(3, 2, 1), 3, 2, 1);
    const withPlayers = (players: Player[]) => ({ ...c, players });
    expect((await refusal(explainCase(withPlayers([{ id: 'a', features: [0, 1], actionable: true }]), { method: 'exact' }))).message).toMatch(/feature index 2 belongs to no player/);
    expect((await refusal(explainCase(withPlayers([{ id: 'a', features: [0, 1], actionable: true }, { id: 'b', features: [1, 2], actionable: true }]), { method: 'exact' }))).message).toMatch(/belongs to players "a" and "b"/);
    expect((await refusal(explainCase(withPlayers([{ id: 'a', features: [0, 1, 3], actionable: true }]), { method: 'exact' }))).message).toMatch(/feature index 3, but the model has 3/);
    expect((await refusal(explainCase({ ...c, baseline: new Float32Array(2) }, { method: 'exact' }))).message).toMatch(/baseline has 2 values/);
    expect((await refusal(explainCase(c, { method: 'sampling', permutations: 0 }))).message).toMatch(/positive whole number of permutation pairs/);
    expect((await refusal(explainCase(c, { method: 'sampling', minBatchEvaluations: 0 }))).message).toMatch(/minBatchEvaluations/);
  });

  it('refuses an evaluator that returns too few values', async () => {
    const c = makeCase(mlpModel(3, 2, 1), 3, 4, 1);
    const short: ModelEvaluator = { featureCount: 3, evaluate: (_m, rows) => Promise.resolve(new Float32Array(rows - 1)) };
    expect((await refusal(explainCase(c, { method: 'sampling' }, short))).code).toBe('MODEL_MISMATCH');
  });
});

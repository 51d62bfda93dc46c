import { explainRows } from './explain-rows';
import { efficiencyGap, explainCase, keysFor, makeCase, rowOf, SPACES, type Case } from './testing/explain-case';
import { bruteForceShapley, evaluatorOf, mlpModel, scoresOf } from './testing/test-models';

describe('explainRows: players at the baseline', () => {
  // Row r copies the baseline into the features f with (r >> f) & 1, as counts at their median do.
  function partlyAtBaseline(): Case {
    const c = makeCase(mlpModel(5, 5, 51), 5, 32, 17);
    for (let r = 0; r < 32; r++) for (let f = 0; f < 5; f++) if ((r >> f) & 1) c.features[r * 5 + f] = c.baseline[f]!;
    c.scores = scoresOf(c.model, c.features, 32, 5);
    return c;
  }
  const differing = (r: number) => 5 - ((r & 31).toString(2).split('1').length - 1);

  it('exact: skips them (exactly 0, fewer evaluations) and still equals brute force', async () => {
    const c = partlyAtBaseline();
    const result = await explainCase(c, { method: 'exact' });
    let expectedEvaluations = 1;
    for (let r = 0; r < 32; r++) {
      const n = differing(r);
      expectedEvaluations += n < 2 ? 0 : 2 ** n - 2;
      const expected = bruteForceShapley(c.model, rowOf(c, r), c.baseline, c.players);
      expected.forEach((v, p) => expect(result.contributions[r * 5 + p]).toBeCloseTo(v, 6));
      for (let f = 0; f < 5; f++) if ((r >> f) & 1) expect(result.contributions[r * 5 + f]).toBe(0);
    }
    expect(result.evaluations).toBe(expectedEvaluations);
    expect(efficiencyGap(result, c, 'probability')).toBeLessThan(1e-6);
  });

  it('sampling: skips them, keeps efficiency, and evaluates 2 * pairs * (n - 1) rows per row', async () => {
    const c = partlyAtBaseline();
    const evaluator = evaluatorOf(c.model, 5);
    const result = await explainCase(c, { method: 'sampling', permutations: 3, minBatchEvaluations: 20 }, evaluator);
    let expectedEvaluations = 1;
    for (let r = 0; r < 32; r++) {
      expectedEvaluations += 2 * 3 * Math.max(0, differing(r) - 1);
      for (let f = 0; f < 5; f++) if ((r >> f) & 1) expect(result.contributions[r * 5 + f]).toBe(0);
    }
    expect(result.evaluations).toBe(expectedEvaluations);
    expect(evaluator.calls.reduce((a, b) => a + b, 0)).toBe(expectedEvaluations);
    evaluator.calls.slice(0, -1).forEach((rows) => expect(rows).toBeGreaterThanOrEqual(20));
    for (const space of SPACES) expect(efficiencyGap(await explainCase(c, { method: 'sampling', space }), c, space)).toBeLessThan(1e-4);
  });

  it('a row equal to the baseline costs nothing; chunks of such rows make no evaluate() call', async () => {
    const c = makeCase(mlpModel(3, 2, 1), 3, 6, 2);
    for (let r = 0; r < 6; r++) c.features.set(c.baseline, r * 3);
    c.scores = scoresOf(c.model, c.features, 6, 3);
    const evaluator = evaluatorOf(c.model, 3);
    const result = await explainCase(c, { method: 'sampling', minBatchEvaluations: 1 }, evaluator);
    expect(evaluator.calls).toEqual([1]);
    expect(Array.from(result.contributions).every((v) => v === 0)).toBe(true);
  });
});

describe('explainRows: determinism and batching', () => {
  const c = makeCase(mlpModel(9, 6, 41), 9, 240, 16);

  async function subset(from: number, to: number, minBatchEvaluations: number): Promise<Float32Array> {
    const n = to - from;
    const result = await explainRows(
      evaluatorOf(c.model, 9),
      {
        features: c.features.slice(from * 9, to * 9),
        rows: n,
        scores: c.scores.slice(from, to),
        rowKeys: keysFor(n, from),
        players: c.players,
        baseline: c.baseline,
      },
      { method: 'sampling', space: 'probability', permutations: 5, seed: 99, minBatchEvaluations },
    );
    return result.contributions;
  }

  it('gives identical contributions however rows are split into calls and batches', async () => {
    const whole = await subset(0, 240, 65_536);
    const halves = new Float32Array(240 * 9);
    halves.set(await subset(0, 100, 1000), 0);
    halves.set(await subset(100, 240, 7), 100 * 9);
    expect(halves).toEqual(whole);
    expect(await subset(0, 240, 1)).toEqual(whole);
  });

  it('changes with the seed, and with the row key: the same row under two keys gets two samples', async () => {
    const a = await explainCase(c, { method: 'sampling', seed: 1 });
    const b = await explainCase(c, { method: 'sampling', seed: 2 });
    expect(b.contributions).not.toEqual(a.contributions);
    const twice = new Float32Array(18);
    twice.set(rowOf(c, 0), 0);
    twice.set(rowOf(c, 0), 9);
    const run = async (keys: number[]) =>
      (
        await explainRows(
          evaluatorOf(c.model, 9),
          { features: twice, rows: 2, scores: Float32Array.of(c.scores[0]!, c.scores[0]!), rowKeys: Uint32Array.from(keys), players: c.players, baseline: c.baseline },
          { method: 'sampling', space: 'probability', permutations: 1, seed: 1, refine: false },
        )
      ).contributions;
    const same = await run([5, 5]);
    expect(same.subarray(0, 9)).toEqual(same.subarray(9));
    const different = await run([5, 6]);
    expect(different.subarray(0, 9)).not.toEqual(different.subarray(9));
  });

  for (const method of ['sampling', 'exact'] as const) {
    it(`${method}: every evaluate() call but the last holds at least minBatchEvaluations rows`, async () => {
      const evaluator = evaluatorOf(c.model, 9);
      const minBatch = 5000;
      const result = await explainCase(c, { method, permutations: 4, minBatchEvaluations: minBatch }, evaluator);
      const perRow = method === 'exact' ? 2 ** 9 - 2 : 2 * 4 * 8;
      expect(result.evaluations).toBe(1 + 240 * perRow);
      expect(evaluator.calls.reduce((a, b) => a + b, 0)).toBe(result.evaluations);
      expect(result.evaluateCalls).toBe(evaluator.calls.length);
      evaluator.calls.slice(0, -1).forEach((rows) => expect(rows).toBeGreaterThanOrEqual(minBatch));
      // Whole customers per chunk: a chunk overshoots minBatch by less than one customer's rows.
      evaluator.calls.slice(0, -1).forEach((rows) => expect(rows).toBeLessThan(minBatch + perRow + 1));
      expect(evaluator.calls.length).toBe(Math.ceil(240 / Math.ceil(minBatch / perRow)));
    });
  }

  it('uses one evaluate() call at the default batch size, and linear one call of F + 1 rows', async () => {
    const sampling = evaluatorOf(c.model, 9);
    await explainCase(c, { method: 'sampling', permutations: 4 }, sampling);
    expect(sampling.calls).toEqual([1 + 240 * 64]);
    const linear = evaluatorOf(c.model, 9);
    await explainCase(c, { method: 'linear' }, linear);
    expect(linear.calls).toEqual([10]);
  });
});

import { explainRows } from './explain-rows';
import { topReasons } from './reason-codes';
import { efficiencyGap, explainCase, keysFor, makeCase, rowOf } from './testing/explain-case';
import { bruteForceShapley, mlpModel } from './testing/test-models';

describe('sampling with refinement (the default)', () => {
  // 8 players: exact is cheaper than 8 pairs only for rows with <= 6 differing players, so most rows are sampled first.
  const c = makeCase(mlpModel(8, 6, 5), 8, 120, 4);
  const exactTop = async () => topReasons((await explainCase(c, { method: 'exact' })).contributions, c.rows, c.players, 1);

  it('gives the first reason of exact Shapley on more rows than plain sampling, and stays additive', async () => {
    const plain = await explainCase(c, { method: 'sampling', permutations: 2 });
    const refined = await explainCase(c, { method: 'sampling', permutations: 2, refine: true });
    const truth = await exactTop();
    const agree = (result: typeof plain) => topReasons(result.contributions, c.rows, c.players, 1).filter((p, r) => p === truth[r]).length;
    expect(agree(refined)).toBeGreaterThan(agree(plain));
    expect(agree(refined)).toBeGreaterThanOrEqual(c.rows - 2);
    expect(refined.evaluations).toBeGreaterThan(plain.evaluations);
    expect(efficiencyGap(refined, c, 'probability')).toBeLessThan(1e-4);
  });

  it('rows refined exactly equal the brute-force oracle', async () => {
    const refined = await explainCase(c, { method: 'sampling', permutations: 2, refine: true });
    const plain = await explainCase(c, { method: 'sampling', permutations: 2 });
    let checked = 0;
    for (let r = 0; r < c.rows && checked < 5; r++) {
      const same = Array.from({ length: 8 }, (_, p) => refined.contributions[r * 8 + p] === plain.contributions[r * 8 + p]).every(Boolean);
      if (same) continue;
      const expected = bruteForceShapley(c.model, rowOf(c, r), c.baseline, c.players);
      const isExact = expected.every((v, p) => Math.abs(v - refined.contributions[r * 8 + p]!) < 1e-5);
      if (isExact) checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('does not depend on which other rows share the call (sharding)', async () => {
    const options = { method: 'sampling' as const, space: 'probability' as const, permutations: 2, seed: 7 };
    const all = await explainRows(c.evaluator, { features: c.features, rows: c.rows, scores: c.scores, rowKeys: keysFor(c.rows), players: c.players, baseline: c.baseline }, options);
    const half = 50;
    const tail = await explainRows(
      c.evaluator,
      { features: c.features.subarray(half * 8), rows: c.rows - half, scores: c.scores.subarray(half), rowKeys: keysFor(c.rows - half, half), players: c.players, baseline: c.baseline },
      options,
    );
    expect(Array.from(tail.contributions)).toEqual(Array.from(all.contributions.subarray(half * 8)));
  });
});

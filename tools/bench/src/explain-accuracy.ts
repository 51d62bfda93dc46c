import * as path from 'node:path';
import { explainRows, playersOf, baselineVector, rowKeysOf, topReasons, type ExplainMethod, type ExplainResult, type ModelEvaluator } from '@churn/explain';
import { ColumnCache, compileFeaturePipeline, eligibleMask, stringValues, validateContract } from '@churn/feature-transforms';
import { loadBundle, modelIoOf } from '@churn/model-bundle';
import { createObjectStore } from '@churn/object-store';
import { OnnxScorer } from '@churn/onnx-runner';
import { synthFileTable } from '@churn/synth-data';

/**
 * `npm run bench:explain`: sampling Shapley's error against exact Shapley on the committed demo
 * model (18 players, so exact costs 2^18 evaluations per row: fine for a sample, never for a
 * nightly run), for several permutation-pair counts, with the evaluations each costs.
 */
async function main(): Promise<void> {
  const sampleRows = Number(process.argv[process.argv.indexOf('--rows') + 1]) || 300;
  const bundle = await loadBundle(createObjectStore(), path.resolve(__dirname, '..', '..', 'models', 'churn-mlp'));
  const { manifest } = bundle;
  const table = synthFileTable({ customers: 5000, asOf: '2026-01-01', seed: 99, files: 1 }, 0);
  const columns = new ColumnCache(table);
  const issues = validateContract(columns, manifest.inputContract);
  const eligible = eligibleMask(columns, manifest.eligibility);
  const candidates: number[] = [];
  for (let r = 0; r < table.numRows; r++) if (eligible[r] && !issues.badRows.has(r)) candidates.push(r);
  const F = manifest.features.length;
  const pipeline = compileFeaturePipeline(manifest.features);
  const scorer = await OnnxScorer.create({
    modelBytes: bundle.modelBytes,
    ...modelIoOf(manifest),
    device: 'cpu',
  });
  // The rows the default policy explains: medium and high risk.
  const all = new Float32Array(candidates.length * F);
  pipeline.transform(columns, Int32Array.from(candidates), all);
  const allScores = await scorer.score(all, candidates.length);
  const mediumFrom = manifest.riskBands.find((b) => b.name === 'medium')?.minScore ?? 0;
  const picked = candidates.filter((_, i) => allScores[i]! >= mediumFrom).slice(0, sampleRows);
  const rows = Int32Array.from(picked);
  const features = new Float32Array(rows.length * F);
  pipeline.transform(columns, rows, features);
  const model: ModelEvaluator = { featureCount: F, evaluate: (m, n) => scorer.score(m, n) };
  const scores = await scorer.score(features, rows.length);
  const ids = table.getChild(manifest.inputContract.idColumn)!;
  const input = {
    features,
    rows: rows.length,
    scores,
    rowKeys: rowKeysOf(stringValues(ids, rows).map(String)),
    players: playersOf(manifest.features),
    baseline: baselineVector(manifest, 'median'),
  };
  const run = async (method: ExplainMethod, pairs: number): Promise<ExplainResult & { seconds: number }> => {
    const t0 = performance.now();
    const result = await explainRows(model, input, { method, space: 'probability', permutations: pairs, seed: 7, maxExactPlayers: 18 });
    return { ...result, seconds: (performance.now() - t0) / 1000 };
  };
  const exact = await run('exact', 1);
  const meanAbs = exact.contributions.reduce((a, v) => a + Math.abs(v), 0) / exact.contributions.length;
  process.stdout.write(
    `explanation accuracy: ${rows.length} active customers at medium or high risk, model ${manifest.name}-${manifest.version}, ${input.players.length} players; exact Shapley took ${(exact.evaluations / rows.length).toFixed(0)} evaluations/row; mean |exact contribution| ${meanAbs.toFixed(4)}\n`,
  );
  const exactTop = topReasons(exact.contributions, rows.length, input.players, 3);
  /** Share of rows whose first reason matches exact's, and whose three reasons (as a set) do. */
  const agreement = (result: ExplainResult) => {
    const top = topReasons(result.contributions, rows.length, input.players, 3);
    let first = 0;
    let three = 0;
    for (let r = 0; r < rows.length; r++) {
      if (top[r * 3] === exactTop[r * 3]) first++;
      const mine = [top[r * 3], top[r * 3 + 1], top[r * 3 + 2]].sort();
      const theirs = [exactTop[r * 3], exactTop[r * 3 + 1], exactTop[r * 3 + 2]].sort();
      if (mine.every((p, k) => p === theirs[k])) three++;
    }
    return `top-1 agreement ${((100 * first) / rows.length).toFixed(1)}%, top-3 ${((100 * three) / rows.length).toFixed(1)}%`;
  };
  const errors = (result: ExplainResult) => {
    let err = 0;
    let worst = 0;
    result.contributions.forEach((v, i) => {
      const e = Math.abs(v - exact.contributions[i]!);
      err += e;
      worst = Math.max(worst, e);
    });
    return { mean: err / result.contributions.length, worst };
  };
  const defaultMethod = manifest.explain.method;
  const chosen = await run(defaultMethod, manifest.explain.permutations);
  const chosenError = errors(chosen);
  process.stdout.write(
    `  default method (${defaultMethod} -> ${chosen.method}, ${manifest.explain.permutations} pairs): ${agreement(chosen)} with exact; mean abs error ${chosenError.mean.toFixed(5)}, max error ${chosenError.worst.toFixed(4)}; ${(chosen.evaluations / rows.length).toFixed(0)} evaluations/row\n`,
  );
  for (const pairs of [2, 4, 8, 16, 32]) {
    const sampled = await run('sampling', pairs);
    const error = errors(sampled);
    process.stdout.write(
      `  sampling, ${String(pairs).padStart(2)} pairs: mean abs error ${error.mean.toFixed(5)} (max ${error.worst.toFixed(4)}), ${agreement(sampled)}, ${(sampled.evaluations / rows.length).toFixed(0)} evaluations/row\n`,
    );
  }
  await scorer.release();
}

main().catch((error: unknown) => {
  process.stderr.write(`explain accuracy failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

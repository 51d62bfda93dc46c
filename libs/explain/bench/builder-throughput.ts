/**
 * How many model evaluations per second the explainer's perturbed-row builders sustain, with a
 * trivial JS evaluator, on the demo bundle's shape (21 features, the 4 plan columns grouped: 18
 * players). This bounds explanation throughput from the JS side: ONNX Runtime must evaluate the
 * rows too, so real throughput is the slower of the two (they overlap: the next chunk is built
 * while the model evaluates the current one).
 *
 * Run: npx esbuild libs/explain/bench/builder-throughput.ts --bundle --platform=node \
 *        --tsconfig=tsconfig.base.json --outfile=/tmp/explain-bench.js && node /tmp/explain-bench.js
 */
import { explainRows, type ExplainMethod, type ModelEvaluator, type Player } from '../src/index';

const FEATURES = 21;
const players: Player[] = [
  ...Array.from({ length: 17 }, (_, f) => ({ id: `f${f}`, features: [f], actionable: true })),
  { id: 'plan', features: [17, 18, 19, 20], actionable: false },
];

/** Reads one value per row so the rows are really consumed, and allocates nothing per call beyond its output. */
const trivial: ModelEvaluator = {
  featureCount: FEATURES,
  evaluate(matrix, rows) {
    const out = new Float32Array(rows);
    for (let r = 0; r < rows; r++) out[r] = 0.5 + 0.01 * matrix[r * FEATURES]!;
    return Promise.resolve(out);
  },
};

async function measure(method: ExplainMethod, rows: number, permutations: number, playerSet: Player[], width: number): Promise<void> {
  const evaluator = width === FEATURES ? trivial : { ...trivial, featureCount: width };
  const features = Float32Array.from({ length: rows * width }, (_, i) => Math.sin(i));
  const scores = new Float32Array(rows).fill(0.5);
  const rowKeys = Uint32Array.from({ length: rows }, (_, i) => Math.imul(i, 2654435761) >>> 0);
  const baseline = new Float32Array(width);
  const input = { features, rows, scores, rowKeys, players: playerSet, baseline };
  const options = { method, space: 'probability' as const, permutations, seed: 1 };
  await explainRows(evaluator, { ...input, rows: Math.min(rows, 200) }, options); // warm-up
  const began = performance.now();
  const result = await explainRows(evaluator, input, options);
  const seconds = (performance.now() - began) / 1000;
  const label = method === 'sampling' ? `sampling, ${permutations} pairs` : method;
  console.log(
    `${label.padEnd(20)} ${playerSet.length} players x ${width} features: ${rows} rows, ${result.evaluations.toLocaleString('en-US')} evaluations in ${seconds.toFixed(2)} s = ` +
      `${(result.evaluations / seconds / 1e6).toFixed(1)} M evaluations/s, ${Math.round(rows / seconds).toLocaleString('en-US')} rows/s, ${result.evaluateCalls} evaluate() calls`,
  );
}

async function main(): Promise<void> {
  await measure('sampling', 20_000, 16, players, FEATURES);
  await measure('sampling', 20_000, 4, players, FEATURES);
  await measure('linear', 1_000_000, 1, players, FEATURES);
  const twelve = Array.from({ length: 12 }, (_, f) => ({ id: `f${f}`, features: [f], actionable: true }));
  await measure('exact', 2_000, 1, twelve, 12);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

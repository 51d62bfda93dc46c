import { ChurnError } from '@churn/errors';
import type { ModelEvaluator, ModelOutput } from './explain-types';
import { logit } from './output-space';
import type { PlayerLayout } from './players';

export interface LinearInput {
  layout: PlayerLayout;
  features: Float32Array;
  scores: ModelOutput;
  rows: number;
  baseline: Float32Array;
  logitSpace: boolean;
  /** rows x players, written here. */
  contributions: Float32Array;
}

export interface LinearRun {
  baseValue: number;
  evaluations: number;
  /** Largest |logit f(x) - logit f(b) - sum w.(x - b)| before reconciliation (see ExplainResult.linearResidual). */
  residual: number;
}

/**
 * Closed-form contributions for models linear in logit space (logistic regression):
 * `w_j (x_j - b_j)` in logit space, summed over a player's features. The weights are recovered
 * from the model itself with F + 1 evaluations in total (the baseline, and the baseline with each
 * feature stepped by +1 in model space), so the bundle needs no coefficients. For any other model
 * the result is only a linearisation at the baseline; `residual` says how far off it is.
 *
 * Probability-space contributions scale the logit ones by the secant slope of the sigmoid between
 * f(b) and f(x), (f(x) - f(b)) / (logit f(x) - logit f(b)), which keeps them proportional and
 * makes them add up to f(x) - f(b).
 */
export async function explainLinear(model: ModelEvaluator, input: LinearInput): Promise<LinearRun> {
  const { layout, features, scores, rows, baseline, logitSpace, contributions } = input;
  const width = model.featureCount;
  const P = layout.count;
  const { start, featureOf } = layout;

  const probes = new Float32Array((width + 1) * width);
  for (let j = 0; j <= width; j++) {
    probes.set(baseline, j * width);
    if (j > 0) probes[j * width + j - 1] = baseline[j - 1]! + 1;
  }
  const values = await model.evaluate(probes, width + 1);
  if (values.length < width + 1) {
    throw new ChurnError('MODEL_MISMATCH', `the model evaluator returned ${values.length} values for ${width + 1} rows`);
  }
  const fb = values[0]!;
  const lb = logit(fb);
  const weight = new Float64Array(width);
  for (let j = 0; j < width; j++) weight[j] = logit(values[j + 1]!) - lb;

  const phi = new Float64Array(P);
  let worst = 0;
  for (let row = 0; row < rows; row++) {
    const x = row * width;
    let sum = 0;
    let magnitude = 0;
    for (let p = 0; p < P; p++) {
      let v = 0;
      for (let q = start[p]!, end = start[p + 1]!; q < end; q++) {
        const f = featureOf[q]!;
        v += weight[f]! * (features[x + f]! - baseline[f]!);
      }
      phi[p] = v;
      sum += v;
      magnitude += Math.abs(v);
    }
    const fx = scores[row]!;
    const lx = logit(fx);
    const delta = lx - lb;
    // The rounding of a float32 probability alone moves its logit by up to ~1e-3 near 0 or 1, so
    // spread the residual over the players in proportion to their size: efficiency then holds
    // exactly, and a feature with zero weight keeps exactly zero.
    const residual = delta - sum;
    const size = Math.abs(residual);
    if (size > worst || Number.isNaN(size)) worst = size;
    if (residual !== 0) {
      if (magnitude > 0) for (let p = 0; p < P; p++) phi[p] = phi[p]! + (residual * Math.abs(phi[p]!)) / magnitude;
      else for (let p = 0; p < P; p++) phi[p] = phi[p]! + residual / P;
    }
    let slope = 1;
    if (!logitSpace) {
      // The secant slope of the sigmoid; as f(x) -> f(b) it tends to p (1 - p), its derivative.
      slope = Math.abs(delta) > 1e-9 ? (fx - fb) / delta : fb * (1 - fb);
    }
    const base = row * P;
    for (let p = 0; p < P; p++) contributions[base + p] = phi[p]! * slope;
  }
  return { baseValue: logitSpace ? lb : fb, evaluations: width + 1, residual: worst };
}

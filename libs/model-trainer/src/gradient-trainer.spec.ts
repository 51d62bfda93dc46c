import { fitModel, type LabelledMatrix } from './gradient-trainer';
import { predictProbabilities } from './model-weights';
import { rocAuc } from '@churn/monitoring';
import { SeededRandom } from './seeded-random';

/** Rows of two standard-normal features with labels drawn from sigmoid(logit(x0, x1)). */
function simulate(rows: number, seed: number, logit: (x0: number, x1: number) => number): LabelledMatrix {
  const random = new SeededRandom(seed);
  const x = new Float32Array(rows * 2);
  const y = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const x0 = random.normal();
    const x1 = random.normal();
    x[r * 2] = x0;
    x[r * 2 + 1] = x1;
    y[r] = random.next() < 1 / (1 + Math.exp(-logit(x0, x1))) ? 1 : 0;
  }
  return { x, y, rows, features: 2 };
}

function auc(data: LabelledMatrix, fit: ReturnType<typeof fitModel>): number {
  return rocAuc(predictProbabilities(fit.weights, data.x, data.rows), data.y);
}

describe('fitModel', () => {
  it('recovers logistic regression coefficients', () => {
    const data = simulate(20_000, 1, (x0, x1) => 2 * x0 - x1 - 1);
    const fit = fitModel(data, { kind: 'logistic', seed: 3, l2: 0 });
    if (fit.weights.kind !== 'logistic') throw new Error('expected logistic weights');
    expect(fit.weights.w[0]).toBeCloseTo(2, 0);
    expect(fit.weights.w[1]).toBeCloseTo(-1, 0);
    expect(fit.weights.b).toBeCloseTo(-1, 0);
    expect(fit.trainRows + fit.validationRows).toBe(data.rows);
  });

  it('lets the MLP learn an interaction a linear model cannot', () => {
    const train = simulate(10_000, 2, (x0, x1) => 3 * x0 * x1);
    const test = simulate(4_000, 9, (x0, x1) => 3 * x0 * x1);
    const mlp = fitModel(train, { kind: 'mlp', seed: 3, hidden: 16 });
    const logistic = fitModel(train, { kind: 'logistic', seed: 3 });
    expect(auc(test, mlp)).toBeGreaterThan(0.8);
    expect(auc(test, logistic)).toBeLessThan(0.6);
  });

  it('keeps the best epoch and stops after `patience` epochs without improvement', () => {
    const data = simulate(3_000, 4, (x0) => x0);
    const fit = fitModel(data, { kind: 'mlp', seed: 5, hidden: 8, patience: 2, maxEpochs: 50 });
    const best = Math.min(...fit.validationLoss);
    expect(fit.validationLoss[fit.bestEpoch - 1]).toBe(best);
    expect(fit.epochs).toBeLessThan(50);
    expect(fit.epochs - fit.bestEpoch).toBe(2);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const data = simulate(2_000, 6, (x0, x1) => x0 + x1);
    const a = fitModel(data, { kind: 'mlp', seed: 1, hidden: 8, maxEpochs: 3 });
    const b = fitModel(data, { kind: 'mlp', seed: 1, hidden: 8, maxEpochs: 3 });
    const c = fitModel(data, { kind: 'mlp', seed: 2, hidden: 8, maxEpochs: 3 });
    expect(a.weights).toEqual(b.weights);
    expect(a.weights).not.toEqual(c.weights);
  });
});

import { isChurnError } from '@churn/errors';
import { evaluateScores, evaluationMetricsSchema } from './evaluation-metrics';

describe('evaluateScores', () => {
  const high = { name: 'high', minScore: 0.5 };

  it('matches hand-computed AUC, Brier score and high-band precision and recall', () => {
    const scores = [0.1, 0.4, 0.35, 0.8];
    const labels = [0, 0, 1, 1];
    const m = evaluateScores({ scores, labels, highBand: high });
    expect(m.auc).toBeCloseTo(0.75, 12); // pairs: (0.35 > 0.1), (0.35 < 0.4), (0.8 > both) -> 3/4
    // (0.01 + 0.16 + 0.4225 + 0.04) / 4
    expect(m.brier).toBeCloseTo(0.158125, 12);
    expect(m.positiveRate).toBe(0.5);
    expect(m.highBand).toEqual({ name: 'high', minScore: 0.5, rows: 1, precision: 1, recall: 0.5 });
    expect(evaluationMetricsSchema.parse(m)).toEqual(m);
  });

  it('builds the calibration table by score decile', () => {
    // 20 rows: scores 0.025, 0.075, ..., 0.975; label 1 exactly for the 10 highest
    const scores = Array.from({ length: 20 }, (_, i) => (i + 0.5) / 20);
    const labels = scores.map((_, i) => (i >= 10 ? 1 : 0));
    const m = evaluateScores({ scores: [...scores].reverse(), labels: [...labels].reverse(), highBand: high });
    expect(m.calibration).toHaveLength(10);
    expect(m.calibration[0]).toEqual({ decile: 1, rows: 2, minScore: 0.025, maxScore: 0.075, meanScore: expect.closeTo(0.05, 12), observedRate: 0 });
    expect(m.calibration[9]).toEqual({ decile: 10, rows: 2, minScore: 0.925, maxScore: 0.975, meanScore: expect.closeTo(0.95, 12), observedRate: 1 });
    expect(m.calibration.reduce((a, c) => a + c.rows, 0)).toBe(20);
    expect(m.auc).toBe(1);
    expect(m.highBand).toMatchObject({ rows: 10, precision: 1, recall: 1 });
  });

  it('reports an undefined AUC and recall as null, not NaN', () => {
    const m = evaluateScores({ scores: [0.2, 0.7], labels: [0, 0], highBand: high });
    expect(m.auc).toBeNull();
    expect(m.highBand.recall).toBeNull();
    expect(m.highBand.precision).toBe(0);
    expect(evaluateScores({ scores: [0.2], labels: [1], highBand: high }).highBand.precision).toBeNull();
  });

  it('refuses an empty evaluation', () => {
    let error: unknown;
    try {
      evaluateScores({ scores: [], labels: [], highBand: high });
    } catch (e) {
      error = e;
    }
    expect(isChurnError(error, 'INVALID_ARGUMENT')).toBe(true);
  });
});

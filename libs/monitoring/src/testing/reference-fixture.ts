import type { ReferenceProfile } from '@churn/model-bundle';

/**
 * A small hand-made reference: `rate` in 4 bins over [0, 1] (100 rows each but the last),
 * `flag` an indicator (70% zeros) and a 4-bin score; nullRate 0.1 for `rate`.
 */
export function referenceFixture(): ReferenceProfile {
  return {
    rows: 400,
    features: {
      rate: { edges: [0, 0.25, 0.5, 0.75, 1], counts: [100, 100, 100, 100], nullRate: 0.1, mean: 0.5, median: 0.5, min: 0, max: 1 },
      flag: { edges: [0, 0.5, 1], counts: [280, 120], nullRate: 0, mean: 0.3, median: 0, min: 0, max: 1 },
    },
    score: { edges: [0, 0.25, 0.5, 0.75, 1], counts: [200, 100, 60, 40], quantiles: Array.from({ length: 101 }, (_, k) => k / 100), mean: 0.3 },
  };
}

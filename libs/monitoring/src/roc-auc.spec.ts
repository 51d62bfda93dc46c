import { rocAuc } from './roc-auc';
import { uniformStream } from './testing/uniform-stream';

/** O(n^2) definition: P(score of a positive > score of a negative), ties counting one half. */
function pairwiseAuc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((p, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((n, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      wins += p > n ? 1 : p === n ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

describe('rocAuc', () => {
  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
  });

  it('matches a hand-computed case without ties', () => {
    // Pairs (pos, neg): (0.35, 0.1) win, (0.35, 0.4) loss, (0.8, 0.1) win, (0.8, 0.4) win -> 3/4.
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
  });

  it('counts a tie between a positive and a negative as one half', () => {
    // (0.5, 0.5) tie 0.5, (0.5, 0.2) win, (0.9, 0.5) win, (0.9, 0.2) win -> 3.5/4.
    expect(rocAuc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1])).toBeCloseTo(0.875, 12);
    expect(rocAuc([0.3, 0.3, 0.3, 0.3], [1, 0, 1, 0])).toBeCloseTo(0.5, 12);
  });

  it('does not depend on row order when scores tie', () => {
    const a = rocAuc([1, 1, 1, 2, 2, 0], [1, 0, 0, 1, 0, 0]);
    const b = rocAuc([0, 2, 1, 2, 1, 1], [0, 0, 0, 1, 1, 0]);
    expect(a).toBeCloseTo(b, 12);
  });

  it('agrees with the pairwise definition on random data with many ties', () => {
    const next = uniformStream(3);
    const scores: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 600; i++) {
      const label = next() < 0.3 ? 1 : 0;
      labels.push(label);
      scores.push(Math.round((next() + label * 0.4) * 8) / 8); // coarse, so ties are common
    }
    expect(rocAuc(scores, labels)).toBeCloseTo(pairwiseAuc(scores, labels), 12);
    expect(rocAuc(Float32Array.from(scores), Uint8Array.from(labels))).toBeCloseTo(pairwiseAuc(scores, labels), 12);
  });

  it('is NaN when one class is missing', () => {
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNaN();
    expect(rocAuc([], [])).toBeNaN();
  });

  it('rejects mismatched lengths, NaN scores and non-binary labels', () => {
    expect(() => rocAuc([0.1, 0.2], [1])).toThrow(/one label per score/);
    expect(() => rocAuc([Number.NaN, 0.2], [1, 0])).toThrow(/NaN/);
    expect(() => rocAuc([0.1, 0.2], [2, 0])).toThrow(/expected 0 or 1/);
  });
});

import { jensenShannonDistance, populationStabilityIndex, PSI_EPSILON } from './drift-statistics';

describe('populationStabilityIndex', () => {
  it('is 0 for identical shares, whatever the totals', () => {
    expect(populationStabilityIndex([10, 20, 30], [1, 2, 3])).toBeCloseTo(0, 15);
  });

  it('matches a hand-computed value', () => {
    // shares (0.5, 0.5) against (0.25, 0.75): 0.25 ln 2 + (-0.25) ln(2/3) = 0.173287 + 0.101366
    expect(populationStabilityIndex([50, 50], [25, 75])).toBeCloseTo(0.274653072167, 10);
  });

  it('floors empty bins at the documented epsilon instead of going infinite', () => {
    expect(PSI_EPSILON).toBe(1e-4);
    // (1, eps) against (0.5, 0.5): 0.5 ln 2 + (eps - 0.5) ln(eps / 0.5)
    expect(populationStabilityIndex([100, 0], [50, 50])).toBeCloseTo(0.5 * Math.log(2) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5), 12);
    expect(populationStabilityIndex([100, 0], [50, 50])).toBeCloseTo(4.604318466669, 9);
  });

  it('is symmetric and null when a side is empty', () => {
    expect(populationStabilityIndex([3, 7], [6, 4])).toBeCloseTo(populationStabilityIndex([6, 4], [3, 7])!, 15);
    expect(populationStabilityIndex([0, 0], [1, 1])).toBeNull();
    expect(populationStabilityIndex([1, 1], [0, 0])).toBeNull();
  });

  it('refuses histograms with different bins', () => {
    expect(() => populationStabilityIndex([1, 2], [1, 2, 3])).toThrow(/differ in bins/);
  });
});

describe('jensenShannonDistance', () => {
  it('is 0 for identical shares and 1 for disjoint histograms', () => {
    expect(jensenShannonDistance([2, 4, 6], [1, 2, 3])).toBeCloseTo(0, 7);
    expect(jensenShannonDistance([10, 0, 0], [0, 0, 10])).toBe(1);
  });

  it('matches a hand-computed value (base 2)', () => {
    // m = (0.375, 0.625); JSD = 0.5 (0.5 log2(4/3) + 0.5 log2(0.8)) + 0.5 (0.25 log2(2/3) + 0.75 log2(1.2)) = 0.048795
    expect(jensenShannonDistance([50, 50], [25, 75])).toBeCloseTo(0.220895768849, 10);
    // an emptied bin needs no epsilon: p = (1, 0), q = (0.5, 0.5)
    expect(jensenShannonDistance([100, 0], [50, 50])).toBeCloseTo(0.557923045284, 10);
  });

  it('stays within [0, 1] and is null when a side is empty', () => {
    expect(jensenShannonDistance([0, 0], [1, 1])).toBeNull();
    const d = jensenShannonDistance([1, 1e6], [1e6, 1])!;
    expect(d).toBeGreaterThan(0.99);
    expect(d).toBeLessThanOrEqual(1);
  });
});

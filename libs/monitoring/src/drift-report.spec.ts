import { computeDrift, driftReportSchema } from './drift-report';
import type { DriftHistograms } from './drift-histograms';
import { referenceFixture } from './testing/reference-fixture';

function histograms(rate: number[], rateNulls: number, flag: number[], score: number[]): DriftHistograms {
  return {
    formatVersion: 1,
    rows: score.reduce((a, b) => a + b, 0),
    features: { rate: { counts: rate, nulls: rateNulls }, flag: { counts: flag, nulls: 0 } },
    unprofiled: [],
    score: { counts: score },
  };
}

describe('computeDrift', () => {
  const reference = referenceFixture();

  it('reports nothing for a run shaped like the reference', () => {
    const report = computeDrift(reference, histograms([10, 10, 10, 10], 4, [28, 12], [20, 10, 6, 4]), {}, { quarantineRate: 0 });
    expect(report.status).toBe('ok');
    expect(report.alerts).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.features.map((f) => [f.id, f.psi])).toEqual([
      ['rate', expect.closeTo(0, 12)],
      ['flag', expect.closeTo(0, 12)],
    ]);
    expect(report.features[0]!.nullRate).toBeCloseTo(0.1, 12);
    expect(report.thresholds).toEqual({ psiWarn: 0.1, psiAlert: 0.25, nullRateWarn: 0.05, nullRateAlert: 0.2, quarantineRateWarn: 0.01, quarantineRateAlert: 0.03 });
    expect(driftReportSchema.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
  });

  it('grades PSI against the thresholds: ok, warn, alert', () => {
    // flag shares (0.5, 0.5) vs (0.7, 0.3): PSI = -0.2 ln(5/7) + 0.2 ln(5/3) = 0.16946 -> warn
    // rate shares (0.5, 0.5, 0, 0) vs 0.25 each: 2 (0.25 ln 2) + 2 (eps - 0.25) ln(eps / 0.25) = 4.2579 -> alert
    const report = computeDrift(reference, histograms([50, 50, 0, 0], 10, [50, 50], [20, 10, 6, 4]), {}, { quarantineRate: 0 });
    const byId = Object.fromEntries(report.features.map((f) => [f.id, f]));
    expect(byId['flag']!.psi).toBeCloseTo(-0.2 * Math.log(5 / 7) + 0.2 * Math.log(5 / 3), 12);
    expect(byId['flag']!.status).toBe('warn');
    expect(byId['rate']!.psi).toBeCloseTo(0.5 * Math.log(2) + 2 * (1e-4 - 0.25) * Math.log(1e-4 / 0.25), 10);
    expect(byId['rate']!.status).toBe('alert');
    expect(report.status).toBe('alert');
    expect(report.alerts).toEqual(['rate']);
    expect(report.warnings).toEqual(['flag']);
    // a looser threshold set turns the warning off
    expect(computeDrift(reference, histograms([50, 50, 0, 0], 10, [50, 50], [20, 10, 6, 4]), { psiWarn: 0.2, psiAlert: 5 }, { quarantineRate: 0 }).status).toBe('warn');
  });

  it('alerts an all-null feature on its null rate even where its filled values keep their bins', () => {
    // every value filled into the first bin, and the reference has 25% there: PSI alerts too
    const report = computeDrift(reference, histograms([40, 0, 0, 0], 40, [28, 12], [20, 10, 6, 4]), {}, { quarantineRate: 0 });
    const rate = report.features.find((f) => f.id === 'rate')!;
    expect(rate.nullRate).toBe(1);
    expect(rate.nullRateChange).toBeCloseTo(0.9, 12);
    expect(rate.status).toBe('alert');
    // null rate alone: same values, more nulls
    const onlyNulls = computeDrift(reference, histograms([10, 10, 10, 10], 16, [28, 12], [20, 10, 6, 4]), {}, { quarantineRate: 0 });
    expect(onlyNulls.features.find((f) => f.id === 'rate')!.status).toBe('alert'); // 0.4 - 0.1 >= 0.2
  });

  it('grades the score and a rise of the quarantine rate', () => {
    const report = computeDrift(reference, histograms([10, 10, 10, 10], 4, [28, 12], [5, 5, 10, 20]), {}, { quarantineRate: 0.05, referenceQuarantineRate: 0.01 });
    expect(report.score.status).toBe('alert');
    expect(report.score.edges).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(report.quarantine).toEqual({ rate: 0.05, referenceRate: 0.01, change: expect.closeTo(0.04, 12), status: 'alert' });
    expect(report.alerts).toEqual(['score', 'quarantine_rate']);
    // fewer broken rows than at training is not drift
    expect(computeDrift(reference, histograms([10, 10, 10, 10], 4, [28, 12], [20, 10, 6, 4]), {}, { quarantineRate: 0, referenceQuarantineRate: 0.2 }).quarantine.status).toBe('ok');
  });

  it('takes the reference quarantine rate from the profile when not given', () => {
    const report = computeDrift({ ...reference, quarantineRate: 0.02 }, histograms([10, 10, 10, 10], 4, [28, 12], [20, 10, 6, 4]), {}, { quarantineRate: 0.025 });
    expect(report.quarantine.referenceRate).toBe(0.02);
    expect(report.quarantine.status).toBe('ok');
  });

  it('gives null statistics, not NaN, for a run with no rows', () => {
    const report = computeDrift(reference, histograms([0, 0, 0, 0], 0, [0, 0], [0, 0, 0, 0]), {}, { quarantineRate: 0 });
    expect(report.features.every((f) => f.psi === null && f.jsDistance === null && f.status === 'ok')).toBe(true);
    expect(report.status).toBe('ok');
    expect(driftReportSchema.safeParse(report).success).toBe(true);
  });
});

import { MANIFEST_FORMAT_VERSION, mergeOutcomes, parseRunManifest, runCostOf, SCORE_BINS, type ShardOutcome } from './run-manifest';

const outcome = (index: number, cpuMs: number, deviceMs?: number): ShardOutcome => ({
  index,
  attempt: 1,
  device: 'cpu',
  file: `part-${index}.parquet`,
  rowGroups: [0],
  firstRow: 0,
  rowsRead: 500_000,
  rowsScored: 400_000,
  rowsQuarantined: 0,
  rowsIneligible: 100_000,
  quarantineReasons: {},
  bandCounts: { low: 400_000 },
  scoreHistogram: new Array<number>(SCORE_BINS).fill(0),
  scoreSum: 0,
  rowsExplained: 0,
  modelEvaluations: 0,
  timingsMs: {},
  cpuMs,
  ...(deviceMs === undefined ? {} : { deviceMs }),
});

describe('run cost', () => {
  it('adds up CPU- and device-seconds over shards', () => {
    const totals = mergeOutcomes([outcome(0, 1500, 1200), outcome(1, 2500, 1800)]);
    expect(totals.cpuSeconds).toBe(4);
    expect(totals.deviceSeconds).toBe(3);
  });

  it('prices device-hours, in total and per million rows read', () => {
    // 1 device-hour at 3.6 for 2 million rows.
    expect(runCostOf(3600, 2_000_000, 3.6)).toEqual({ pricePerDeviceHour: 3.6, total: 3.6, perMillionRows: 1.8 });
    expect(runCostOf(0, 0, 3.6)).toEqual({ pricePerDeviceHour: 3.6, total: 0, perMillionRows: 0 });
  });

  it('reads manifests written before device time and cost were recorded', () => {
    const old = {
      formatVersion: MANIFEST_FORMAT_VERSION,
      runId: 'churn-mlp-1.0.0_2026-01-01_0123456789ab',
      attempt: 1,
      asOf: '2026-01-01',
      model: { name: 'churn-mlp', version: '1.0.0', digest: 'a'.repeat(64), modelSha256: 'b'.repeat(64), bundle: 'models/churn-mlp' },
      input: { partition: 'data/as_of=2026-01-01', files: [] },
      parts: [],
      quarantine: { parts: [] },
      device: 'cpu',
      startedAt: '2026-01-01T00:00:00.000Z',
      committedAt: '2026-01-01T00:01:00.000Z',
      settings: {},
      rowsRead: 500_000,
      rowsScored: 400_000,
      rowsQuarantined: 0,
      rowsIneligible: 100_000,
      quarantineReasons: {},
      bandCounts: {},
      score: { mean: 0, histogram: [] },
      rowsExplained: 0,
      modelEvaluations: 0,
      cpuSeconds: 1.5,
      shards: [outcome(0, 1500)],
    };
    const manifest = parseRunManifest(JSON.stringify(old), 'old/_manifest.json');
    expect(manifest.deviceSeconds).toBeUndefined();
    expect(manifest.cost).toBeUndefined();
    expect(manifest.shards[0]!.deviceMs).toBeUndefined();
  });
});

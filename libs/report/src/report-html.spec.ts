import { computeDrift } from '@churn/monitoring';
import type { ReferenceProfile } from '@churn/model-bundle';
import { reportCharts } from './report-charts';
import { renderReportHtml } from './report-html';
import { reportInputSchema, type ReportInput } from './report-input';

const reference: ReferenceProfile = {
  rows: 100,
  features: {
    rate: { edges: [0, 0.5, 1], counts: [50, 50], nullRate: 0, mean: 0.5, median: 0.5, min: 0, max: 1 },
    flag: { edges: [0, 0.5, 1], counts: [70, 30], nullRate: 0, mean: 0.3, median: 0, min: 0, max: 1 },
  },
  score: { edges: [0, 0.5, 1], counts: [80, 20], quantiles: Array.from({ length: 101 }, (_, k) => k / 100), mean: 0.3 },
};

function input(drifted: 'alert' | 'ok' | 'none'): ReportInput {
  const counts = drifted === 'alert' ? [95, 5] : [50, 50];
  const drift = computeDrift(reference, { formatVersion: 1, rows: 100, unprofiled: [], features: { rate: { counts, nulls: 0 }, flag: { counts: [70, 30], nulls: 0 } }, score: { counts: [80, 20] } }, {}, { quarantineRate: 0 });
  return reportInputSchema.parse({
    formatVersion: 1,
    generatedAt: '2026-07-02T06:00:00.000Z',
    scoresUri: 'file:///scores',
    run: { runId: 'm-1_2026-07-02', asOf: '2026-07-02', model: 'm-1', partitionUri: 'file:///scores/as_of=2026-07-02/model=m-1', device: 'cpu', startedAt: '2026-07-02T05:00:00.000Z', committedAt: '2026-07-02T05:00:10.000Z', rowsRead: 120, rowsScored: 100, rowsQuarantined: 5, rowsIneligible: 15, rowsPerSecond: 12 },
    bands: [{ name: 'low', rows: 80 }, { name: 'high', rows: 20 }],
    score: { edges: [0, 0.5, 1], counts: [80, 20], referenceCounts: [80, 20] },
    drift: drifted === 'none' ? null : drift,
    evaluation: null,
    highBand: 'high',
    topReasons: [{ reason: 'rate', customers: 12, example: 'API error rate 12%' }],
    quarantine: [{ reason: 'plan: unknown category', rows: 5 }],
    segmentColumns: ['region'],
    topCustomers: [{ customerId: 'C<script>alert(1)</script>', score: 0.91, riskBand: 'high', reasons: ['a & b'], segments: { region: 'EMEA' } }],
    history: [{ runId: 'm-1_2026-07-02', asOf: '2026-07-02', committedAt: '2026-07-02T05:00:10.000Z', rowsRead: 120, rowsScored: 100, rowsPerSecond: 12, driftStatus: drift.status, alerts: drift.alerts, maxPsi: 0.5, auc: null }],
  });
}

const LIBRARY = 'window.Chart = function () {}; /* a string with </script> inside */';

describe('renderReportHtml', () => {
  it('is one self-contained page: inline scripts only, a CSP that allows no fetch, escaped text', () => {
    const html = renderReportHtml(input('alert'), { chartLibrary: LIBRARY });
    expect(html).not.toMatch(/<script[^>]+src=|<link |<img |@import/);
    expect(html).toContain(`content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).toContain('a string with <\\/script> inside');
    expect(html).toContain('C&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('C<script>');
    expect(html).toContain('a &amp; b');
    expect(html).toContain('<th>region</th>');
  });

  it('shows the drift alert banner naming the alerting features, and no banner of another kind', () => {
    const html = renderReportHtml(input('alert'), { chartLibrary: LIBRARY });
    expect(html).toMatch(/<div class="banner alert" id="drift-alert" role="alert"><strong>Drift alert:<\/strong> <code>rate<\/code>/);
    expect(renderReportHtml(input('ok'), { chartLibrary: LIBRARY })).toContain('id="drift-ok"');
    const none = renderReportHtml(input('none'), { chartLibrary: LIBRARY });
    expect(none).toContain('id="drift-none"');
    expect(none).toContain('No drift computed');
    expect(none).not.toContain('id="chart-psi"');
  });

  it('draws one PSI bar per feature with warn and alert lines, and a chart per section with data', () => {
    const specs = reportCharts(input('alert')) as Record<string, { data: { labels: string[]; datasets: { label: string; data: number[] }[] } }>;
    expect(Object.keys(specs).sort()).toEqual(['chart-bands', 'chart-history-quality', 'chart-history-volume', 'chart-psi', 'chart-quarantine', 'chart-reasons', 'chart-score']);
    const psi = specs['chart-psi']!.data;
    expect(psi.labels).toEqual(['rate', 'flag']);
    expect(psi.datasets.map((d) => d.label)).toEqual(['PSI', 'warn 0.1', 'alert 0.25']);
    expect(psi.datasets[1]!.data).toEqual([0.1, 0.1]);
    expect(specs['chart-score']!.data.datasets[0]!.data).toEqual([80, 20]); // shares in %
    const html = renderReportHtml(input('alert'), { chartLibrary: LIBRARY });
    for (const id of Object.keys(specs)) expect(html).toContain(`<canvas id="${id}"`);
  });
});

import type { ReportInput } from './report-input';

/**
 * Chart.js configurations of a run report, as plain JSON (no functions), keyed by the id of the
 * canvas each one draws on. Animations are off, so the first frame is the final one (screenshots,
 * printing).
 */
export type ChartSpecs = Record<string, unknown>;

const COLOR = { run: '#2563eb', reference: '#9ca3af', ok: '#16a34a', warn: '#d97706', alert: '#dc2626', line: '#111827', auc: '#7c3aed' } as const;

function base(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' } }, ...extra };
}

const axisTitle = (text: string) => ({ display: true, text });

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? Math.round((10000 * c) / total) / 100 : 0));
}

function scoreChart(input: ReportInput): unknown {
  const { edges, counts, referenceCounts } = input.score;
  const labels = counts.map((_, i) => `${edges[i]!.toFixed(2)}-${edges[i + 1]!.toFixed(2)}`);
  const datasets: { label: string; data: number[]; backgroundColor: string }[] = [{ label: `this run (${input.run.asOf})`, data: shares(counts), backgroundColor: COLOR.run }];
  if (referenceCounts) datasets.push({ label: 'training reference', data: shares(referenceCounts), backgroundColor: COLOR.reference });
  return { type: 'bar', data: { labels, datasets }, options: base({ scales: { x: { title: axisTitle('P(churn in 30 days)') }, y: { title: axisTitle('% of scored customers') } } }) };
}

function bandChart(input: ReportInput): unknown {
  return {
    type: 'bar',
    data: { labels: input.bands.map((b) => b.name), datasets: [{ label: 'customers', data: input.bands.map((b) => b.rows), backgroundColor: input.bands.map((_, i, all) => (i === all.length - 1 ? COLOR.alert : i === 0 ? COLOR.ok : COLOR.warn)) }] },
    options: base({ plugins: { legend: { display: false } }, scales: { y: { title: axisTitle('customers') } } }),
  };
}

function psiChart(drift: NonNullable<ReportInput['drift']>): unknown {
  const ids = drift.features.map((f) => f.id);
  const psi = drift.features.map((f) => f.psi ?? 0);
  const { psiWarn, psiAlert } = drift.thresholds;
  // Large PSIs (a column gone null) would flatten every other bar: the axis stops near 1 and
  // longer bars run to its edge; exact values are in the table below the chart.
  const max = Math.max(2 * psiAlert, Math.min(1, 1.1 * Math.max(...psi, 0)));
  const threshold = (label: string, value: number, color: string) => ({ type: 'line', label, data: ids.map(() => value), borderColor: color, borderDash: [6, 4], borderWidth: 2, pointRadius: 0 });
  return {
    type: 'bar',
    data: {
      labels: ids,
      datasets: [
        { type: 'bar', label: 'PSI', data: psi, backgroundColor: drift.features.map((f) => COLOR[f.status]) },
        threshold(`warn ${psiWarn}`, psiWarn, COLOR.warn),
        threshold(`alert ${psiAlert}`, psiAlert, COLOR.alert),
      ],
    },
    options: base({ indexAxis: 'y', scales: { x: { min: 0, max, title: axisTitle('population stability index vs training') } } }),
  };
}

function horizontalBars(labels: string[], data: number[], label: string, color: string, axis: string): unknown {
  return {
    type: 'bar',
    data: { labels, datasets: [{ label, data, backgroundColor: color }] },
    options: base({ indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { title: axisTitle(axis) } } }),
  };
}

function historyCharts(input: ReportInput): ChartSpecs {
  const labels = input.history.map((h) => h.asOf);
  return {
    'chart-history-volume': {
      type: 'line',
      data: {
        labels,
        datasets: [
          { label: 'rows scored', data: input.history.map((h) => h.rowsScored), borderColor: COLOR.run, backgroundColor: COLOR.run, yAxisID: 'y' },
          { label: 'rows/s', data: input.history.map((h) => h.rowsPerSecond), borderColor: COLOR.reference, backgroundColor: COLOR.reference, yAxisID: 'y1' },
        ],
      },
      options: base({ scales: { y: { title: axisTitle('rows scored'), beginAtZero: true }, y1: { position: 'right', title: axisTitle('rows/s'), beginAtZero: true, grid: { drawOnChartArea: false } } } }),
    },
    'chart-history-quality': {
      type: 'line',
      data: {
        labels,
        datasets: [
          { label: 'largest PSI', data: input.history.map((h) => h.maxPsi), borderColor: COLOR.alert, backgroundColor: COLOR.alert, spanGaps: true },
          { label: 'evaluated AUC', data: input.history.map((h) => h.auc), borderColor: COLOR.auc, backgroundColor: COLOR.auc, spanGaps: true },
        ],
      },
      options: base({ scales: { y: { min: 0, title: axisTitle('PSI / AUC') } } }),
    },
  };
}

/** The charts a report draws; sections without data get no chart (the page says why instead). */
export function reportCharts(input: ReportInput): ChartSpecs {
  const specs: ChartSpecs = { 'chart-score': scoreChart(input), 'chart-bands': bandChart(input) };
  if (input.drift) specs['chart-psi'] = psiChart(input.drift);
  if (input.topReasons.length > 0) {
    specs['chart-reasons'] = horizontalBars(input.topReasons.map((r) => r.reason), input.topReasons.map((r) => r.customers), `${input.highBand}-risk customers`, COLOR.alert, `${input.highBand}-risk customers with this among their top 3 reasons`);
  }
  if (input.quarantine.length > 0) {
    specs['chart-quarantine'] = horizontalBars(input.quarantine.map((q) => q.reason), input.quarantine.map((q) => q.rows), 'rows', COLOR.warn, 'quarantined rows');
  }
  return { ...specs, ...historyCharts(input) };
}

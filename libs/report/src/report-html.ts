import { reportCharts } from './report-charts';
import type { ReportInput } from './report-input';

export interface RenderOptions {
  /** Chart.js's browser (UMD) bundle, inlined so the file needs no network (loadChartLibrary). */
  chartLibrary: string;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Text inside <script>: `</script` and `<!--` must not appear literally. */
const inlineScript = (s: string) => s.replace(/<\/script/gi, '<\\/script').replace(/<!--/g, '<\\!--');
const fmt = (n: number) => n.toLocaleString('en-US');
const num = (n: number | null, digits = 3) => (n === null ? '—' : n.toFixed(digits));
const pct = (n: number) => `${(100 * n).toFixed(2)}%`;

function table(headers: string[], rows: string[][], id: string): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function chart(id: string, height: number): string {
  return `<div class="chart" style="height:${height}px"><canvas id="${id}" role="img"></canvas></div>`;
}

const note = (text: string, id: string) => `<p class="note" id="${id}">${escapeHtml(text)}</p>`;

function banner(input: ReportInput): string {
  const drift = input.drift;
  if (!drift) return `<div class="banner info" id="drift-none">No drift computed for this run: its manifest has no drift section.</div>`;
  if (drift.status === 'ok') return `<div class="banner ok" id="drift-ok">No drift: every feature, the score and the quarantine rate are within their thresholds.</div>`;
  const items = drift.status === 'alert' ? drift.alerts : drift.warnings;
  const what = drift.status === 'alert' ? 'Drift alert' : 'Drift warning';
  return `<div class="banner ${drift.status}" id="drift-${drift.status}" role="alert"><strong>${what}:</strong> ${items.map((i) => `<code>${escapeHtml(i)}</code>`).join(', ')} moved beyond the ${drift.status} threshold against the training reference. Check the inputs before acting on these scores.</div>`;
}

function kpis(input: ReportInput): string {
  const { run } = input;
  const cards: [string, string][] = [
    ['rows read', fmt(run.rowsRead)],
    ['scored', fmt(run.rowsScored)],
    ['quarantined', `${fmt(run.rowsQuarantined)} (${pct(run.rowsRead ? run.rowsQuarantined / run.rowsRead : 0)})`],
    ['ineligible', fmt(run.rowsIneligible)],
    ['throughput', `${fmt(run.rowsPerSecond)} rows/s`],
    ['drift', input.drift ? input.drift.status : 'not computed'],
    ['AUC (evaluated)', input.evaluation?.auc === null || !input.evaluation ? 'no outcomes yet' : `${num(input.evaluation.auc, 4)} (training ${num(input.evaluation.trainingAuc, 4)})`],
  ];
  return `<div class="kpis">${cards.map(([k, v]) => `<div class="kpi"><div class="k">${escapeHtml(k)}</div><div class="v">${escapeHtml(v)}</div></div>`).join('')}</div>`;
}

function driftSection(input: ReportInput): string {
  const drift = input.drift;
  if (!drift) return note('No drift computed: runs record drift once scoring computes it against the bundle\'s reference profile.', 'psi-none');
  const rows = drift.features.map((f) => [
    `<code>${escapeHtml(f.id)}</code>`,
    num(f.psi),
    num(f.jsDistance),
    `${pct(f.referenceNullRate)} → ${pct(f.nullRate)}`,
    `<span class="status ${f.status}">${f.status}</span>`,
  ]);
  rows.push(['<strong>score</strong>', num(drift.score.psi), num(drift.score.jsDistance), '', `<span class="status ${drift.score.status}">${drift.score.status}</span>`]);
  rows.push(['<strong>quarantine rate</strong>', '', '', `${pct(drift.quarantine.referenceRate)} → ${pct(drift.quarantine.rate)}`, `<span class="status ${drift.quarantine.status}">${drift.quarantine.status}</span>`]);
  const t = drift.thresholds;
  return `${chart('chart-psi', 60 + 22 * drift.features.length)}
<p class="note">Thresholds: PSI warn ${t.psiWarn}, alert ${t.psiAlert}; null-rate change warn ${t.nullRateWarn}, alert ${t.nullRateAlert}; quarantine-rate rise warn ${t.quarantineRateWarn}, alert ${t.quarantineRateAlert}. Empty bins count as ${drift.psiEpsilon} in PSI. ${fmt(drift.rows)} scored rows against ${fmt(drift.referenceRows)} reference rows.</p>
${table(['feature', 'PSI', 'JS distance', 'null rate (training → run)', 'status'], rows, 'drift-table')}`;
}

function customersSection(input: ReportInput): string {
  if (input.topCustomers.length === 0) return note('No scored customers.', 'customers-none');
  const headers = ['#', 'customer', 'score', 'band', 'reasons', ...input.segmentColumns];
  const rows = input.topCustomers.map((c, i) => [
    String(i + 1),
    `<code>${escapeHtml(c.customerId)}</code>`,
    c.score.toFixed(3),
    escapeHtml(c.riskBand),
    c.reasons.length ? `<ul>${c.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>` : '<span class="muted">not explained</span>',
    ...input.segmentColumns.map((s) => escapeHtml(String(c.segments[s] ?? ''))),
  ]);
  return table(headers, rows, 'top-customers');
}

function historySection(input: ReportInput): string {
  const rows = input.history.map((h) => [
    escapeHtml(h.asOf),
    fmt(h.rowsScored),
    fmt(h.rowsPerSecond),
    h.driftStatus ? `<span class="status ${h.driftStatus}">${h.driftStatus}</span>${h.alerts.length ? ` ${h.alerts.map(escapeHtml).join(', ')}` : ''}` : '<span class="muted">not computed</span>',
    num(h.maxPsi),
    num(h.auc, 4),
  ]);
  return `<div class="pair">${chart('chart-history-volume', 240)}${chart('chart-history-quality', 240)}</div>
${table(['as of', 'rows scored', 'rows/s', 'drift', 'largest PSI', 'evaluated AUC'], rows, 'history-table')}`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#111827;background:#f9fafb}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#6b7280}.muted{color:#9ca3af}.note{color:#4b5563;font-size:13px}
.banner{padding:12px 16px;border-radius:6px;margin:16px 0;border:1px solid}
.banner.alert{background:#fef2f2;border-color:#dc2626;color:#991b1b}.banner.warn{background:#fffbeb;border-color:#d97706;color:#92400e}
.banner.ok{background:#f0fdf4;border-color:#16a34a;color:#166534}.banner.info{background:#f3f4f6;border-color:#9ca3af;color:#374151}
.kpis{display:flex;flex-wrap:wrap;gap:10px}.kpi{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:8px 12px;min-width:120px}
.kpi .k{color:#6b7280;font-size:12px}.kpi .v{font-size:16px;font-weight:600}
.chart{position:relative;background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:8px;margin:8px 0}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px;margin:8px 0}th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6}td ul{margin:0;padding-left:16px}
.status{font-weight:600}.status.ok{color:#16a34a}.status.warn{color:#d97706}.status.alert{color:#dc2626}`;

/**
 * One self-contained HTML page for a run: no request leaves it when opened (Chart.js and the data
 * are inlined); charts draw on canvases from a JSON block of Chart.js configurations.
 */
export function renderReportHtml(input: ReportInput, options: RenderOptions): string {
  const { run } = input;
  const specs = JSON.stringify(reportCharts(input)).replace(/</g, '\\u003c');
  const bootstrap = `(function(){var specs=JSON.parse(document.getElementById('chart-specs').textContent);for(var id in specs){new Chart(document.getElementById(id),specs[id]);}document.body.setAttribute('data-charts-ready','true');})();`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Churn run report: ${escapeHtml(run.model)} as of ${escapeHtml(run.asOf)}</title>
<style>${STYLE}</style></head>
<body><main>
<h1>Churn scores: ${escapeHtml(run.model)} as of ${escapeHtml(run.asOf)}</h1>
<div class="sub">run <code>${escapeHtml(run.runId)}</code>, committed ${escapeHtml(run.committedAt)}${run.device ? ` on ${escapeHtml(run.device)}` : ''}; ${escapeHtml(run.partitionUri)}; report generated ${escapeHtml(input.generatedAt)}</div>
${banner(input)}
${kpis(input)}
<h2>Score distribution against the training reference</h2>
${chart('chart-score', 280)}
${input.score.referenceCounts ? '' : note('The bundle has no reference score distribution: only this run is drawn.', 'score-no-reference')}
<h2>Risk bands</h2>
${chart('chart-bands', 220)}
<h2>Drift per feature (PSI against the thresholds)</h2>
${driftSection(input)}
<h2>Top reasons of the ${escapeHtml(input.highBand)} band</h2>
${input.topReasons.length ? chart('chart-reasons', 60 + 24 * input.topReasons.length) : note(`No explained ${input.highBand}-risk customers in this run.`, 'reasons-none')}
<h2>Quarantine by reason</h2>
${input.quarantine.length ? chart('chart-quarantine', 60 + 24 * input.quarantine.length) : note('No row broke the input contract.', 'quarantine-none')}
<h2>The ${input.topCustomers.length} highest-risk customers</h2>
${customersSection(input)}
<h2>History of ${escapeHtml(run.model)} (last ${input.history.length} runs)</h2>
${historySection(input)}
</main>
<script type="application/json" id="chart-specs">${specs}</script>
<script>${inlineScript(options.chartLibrary)}</script>
<script>${bootstrap}</script>
</body></html>
`;
}

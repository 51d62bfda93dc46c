import type { ObjectStore } from '@churn/object-store';
import { loadChartLibrary } from './chart-library';
import { renderReportHtml } from './report-html';
import { buildReportInput, type ReportInput, type ReportOptions } from './report-input';

/** Builds a run's report input, renders it and stores the HTML at `outUri`. */
export async function writeRunReport(store: ObjectStore, options: ReportOptions & { outUri: string }): Promise<{ uri: string; input: ReportInput; bytes: number }> {
  const input = await buildReportInput(store, options);
  const html = renderReportHtml(input, { chartLibrary: await loadChartLibrary() });
  await store.put(options.outUri, html, { contentType: 'text/html; charset=utf-8' });
  return { uri: options.outUri, input, bytes: Buffer.byteLength(html) };
}

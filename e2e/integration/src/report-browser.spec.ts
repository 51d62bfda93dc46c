/**
 * `churn report` opened in a real browser (Debian's Chromium driven by playwright-core) with the
 * network blocked: every chart draws, the PSI chart has one bar per feature and both threshold
 * lines, a drifted run shows its alert banner, and no request leaves the file. Set
 * REPORT_SCREENSHOT=path to keep the screenshot (docs/report-screenshot.png is made this way).
 */
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { loadBundle } from '@churn/model-bundle';
import type { DriftReport } from '@churn/monitoring';
import { LocalObjectStore } from '@churn/object-store';
import { churn, DEFAULT_BUNDLE } from './support/churn-cli';
import { driftOfSnapshot } from './support/drift-of-snapshot';

const CHROMIUM = '/usr/bin/chromium';
const MODEL = 'churn-mlp-1.0.0';
const DAYS = [
  { asOf: '2026-07-01', seed: 5 },
  { asOf: '2026-07-02', seed: 6, drift: 'api-errors-up' as const },
];
const SNAPSHOT = { customers: 8_000, files: 2 };

/** The part of Chart.js's UMD global the checks read. */
interface ChartJsGlobal {
  getChart(canvas: HTMLCanvasElement): { config: { type: string }; data: { datasets: unknown[] }; getDatasetMeta(i: number): { data: unknown[] } } | undefined;
}

declare global {
  interface Window {
    Chart: ChartJsGlobal;
  }
}

/** What a chart on the page drew: its type, marks per dataset, and how many pixels are painted. */
interface Drawn {
  type: string;
  marks: number[];
  painted: number;
}

async function drawnCharts(page: Page): Promise<Record<string, Drawn>> {
  return page.evaluate(() => {
    const out: Record<string, { type: string; marks: number[]; painted: number }> = {};
    for (const canvas of Array.from(document.querySelectorAll('canvas'))) {
      const chart = window.Chart.getChart(canvas);
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++;
      out[canvas.id] = { type: chart?.config.type ?? 'none', marks: chart ? chart.data.datasets.map((_, k) => chart.getDatasetMeta(k).data.length) : [], painted };
    }
    return out;
  });
}

describe('churn report in headless Chromium, network blocked', () => {
  let dir: string;
  let context: BrowserContext;
  const requests: string[] = [];
  const blocked: string[] = [];
  const scores = () => path.join(dir, 'scores');
  const partition = (asOf: string) => path.join(scores(), `as_of=${asOf}`, `model=${MODEL}`);

  async function open(report: string): Promise<Page> {
    const page = await context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(report).href);
    await page.waitForSelector('body[data-charts-ready="true"]', { timeout: 20_000 });
    return page;
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-report-'));
    const bundle = await loadBundle(new LocalObjectStore(), DEFAULT_BUNDLE);
    for (const day of DAYS) {
      const data = path.join(dir, `data-${day.asOf}`);
      const synth = await churn(['synth', '--customers', String(SNAPSHOT.customers), '--files', String(SNAPSHOT.files), '--as-of', day.asOf, '--seed', String(day.seed), '--out', data, ...(day.drift ? ['--drift', day.drift] : [])]);
      expect(synth.code).toBe(0);
      expect((await churn(['score', '--input', data, '--output', scores(), '--device', 'cpu'])).code).toBe(0);
    }
    const evaluated = await churn(['evaluate', '--scores', scores(), '--as-of', DAYS[0]!.asOf, '--model', MODEL, '--labels', path.join(dir, `data-${DAYS[0]!.asOf}`)]);
    expect(evaluated.code).toBe(0);
    // Scoring recorded each run's drift; the drifted day's matches what the snapshot's own
    // measurement (contract, eligibility, pipeline, model) gives.
    const measured: DriftReport = await driftOfSnapshot(bundle, { ...SNAPSHOT, asOf: DAYS[1]!.asOf, seed: DAYS[1]!.seed, drift: DAYS[1]!.drift });
    const recorded = JSON.parse(await fs.readFile(path.join(partition(DAYS[1]!.asOf), '_manifest.json'), 'utf8')) as { drift: DriftReport };
    expect(recorded.drift.alerts).toEqual(measured.alerts);
    // A bundle without a reference profile computes no drift: its report says so.
    const unprofiled = path.join(dir, 'unprofiled-bundle');
    await fs.cp(DEFAULT_BUNDLE, unprofiled, { recursive: true });
    const json = JSON.parse(await fs.readFile(path.join(unprofiled, 'bundle.json'), 'utf8')) as { reference?: unknown; explain: { baseline: string } };
    delete json.reference;
    json.explain.baseline = 'center';
    await fs.writeFile(path.join(unprofiled, 'bundle.json'), JSON.stringify(json));
    const noDrift = path.join(dir, 'scores-unprofiled');
    expect((await churn(['score', '--input', path.join(dir, `data-${DAYS[0]!.asOf}`), '--model', unprofiled, '--output', noDrift, '--device', 'cpu'])).code).toBe(0);
    expect((await churn(['report', '--scores', noDrift, '--out', path.join(dir, 'no-drift.html')])).code).toBe(0);
    const reported = await churn(['report', '--scores', scores(), '--out', path.join(dir, 'report.html')]);
    expect(reported.code).toBe(0);
    expect(reported.summary).toMatchObject({ drift: 'alert', alerts: ['api_error_rate'] });
    expect(String(reported.summary!['runId'])).toMatch(new RegExp(`^${MODEL.replace(/\./g, '\\.')}_${DAYS[1]!.asOf}_[0-9a-f]{12}$`));

    context = await chromium.launchPersistentContext(await fs.mkdtemp(path.join(os.tmpdir(), 'churn-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
      viewport: { width: 1280, height: 900 },
    });
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      blocked.push(url);
      return route.abort();
    });
  });

  afterAll(async () => {
    await context?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('draws every chart of a drifted run, with the alert banner, and makes no request', async () => {
    const page = await open(path.join(dir, 'report.html'));
    const charts = await drawnCharts(page);
    expect(Object.keys(charts).sort()).toEqual(['chart-bands', 'chart-history-quality', 'chart-history-volume', 'chart-psi', 'chart-reasons', 'chart-score'].sort());
    for (const [id, chart] of Object.entries(charts)) {
      expect([id, chart.type !== 'none', chart.painted > 1000]).toEqual([id, true, true]);
    }
    const features = (await loadBundle(new LocalObjectStore(), DEFAULT_BUNDLE)).manifest.features.length;
    expect(charts['chart-psi']!.marks).toEqual([features, features, features]); // one bar per feature, warn and alert lines
    expect(charts['chart-score']!.marks).toEqual([20, 20]); // this run and the training reference
    expect(charts['chart-bands']!.marks).toEqual([3]);
    expect(charts['chart-history-volume']!.marks).toEqual([2, 2]); // both runs
    const banner = page.locator('#drift-alert');
    expect(await banner.isVisible()).toBe(true);
    expect(await banner.textContent()).toContain('api_error_rate');
    expect(await page.locator('#top-customers tbody tr').count()).toBe(25);
    expect(await page.locator('#history-table tbody tr').count()).toBe(2);
    expect(await page.locator('#history-table tbody tr').first().textContent()).toMatch(/0\.8\d{3}/); // day 1's evaluated AUC
    const shot = path.join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect((await fs.stat(shot)).size).toBeGreaterThan(20_000);
    // The docs keep the top of the page: banner, figures, score distribution, bands and drift.
    if (process.env['REPORT_SCREENSHOT']) await page.screenshot({ path: process.env['REPORT_SCREENSHOT'], fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1720 } });
    expect(blocked).toEqual([]);
    expect(requests.every((url) => url.startsWith('file://'))).toBe(true);
    await page.close();
  });

  it('says "no drift computed" for a run without a drift section, and draws the rest', async () => {
    const page = await open(path.join(dir, 'no-drift.html'));
    expect(await page.locator('#drift-none').isVisible()).toBe(true);
    expect(await page.locator('#psi-none').textContent()).toMatch(/No drift computed/);
    const charts = await drawnCharts(page);
    expect(charts['chart-psi']).toBeUndefined();
    expect(charts['chart-score']!.painted).toBeGreaterThan(1000);
    expect(blocked).toEqual([]);
    await page.close();
  });
});

import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { DEVICES } from '@churn/onnx-runner';
import { loadBundle } from '@churn/model-bundle';
import { createObjectStore, joinUri } from '@churn/object-store';
import { rocAuc } from '@churn/model-trainer';
import { writeSynthDataset } from '@churn/synth-data';
import { evaluateRun, writeRunReport } from '@churn/report';
import { queryScores } from '@churn/warehouse';
import type { CliIo } from '../cli-io';
import { fmt, nonNegativeInt, positiveInt } from '../cli-options';
import { defaultBundlePath } from '../default-bundle';
import { scoreLocally } from './score-command';

interface DemoOptions {
  customers: number;
  dir: string;
  asOf: string;
  seed: number;
  device: (typeof DEVICES)[number];
}

/** synth -> score -> summary, AUC on fresh data, the riskiest active customers, and a run report. */
async function runDemo(io: CliIo, options: DemoOptions): Promise<void> {
  const store = createObjectStore();
  const root = path.resolve(options.dir);
  const dataUri = joinUri(root, 'snapshots');
  const scoresUri = joinUri(root, 'scores');
  const modelUri = defaultBundlePath();

  io.err(`1/3 generating ${fmt(options.customers)} synthetic customers into ${dataUri}`);
  const synth = await writeSynthDataset(store, dataUri, { customers: options.customers, asOf: options.asOf, seed: options.seed, files: 4 });

  io.err(`2/3 scoring with the committed bundle ${modelUri}`);
  const summary = await scoreLocally(io, { input: dataUri, asOf: options.asOf, output: scoresUri, device: options.device });
  const bundle = await loadBundle(store, modelUri);

  io.err('3/3 reading the score table back with DuckDB');
  const inputFiles = synth.files.map((f) => `'${new URL(f.uri).pathname.replace(/'/g, "''")}'`).join(', ');
  const labelled = await queryScores(
    store,
    scoresUri,
    `SELECT s.score, i.churned_within_30d::INTEGER AS label FROM scores s JOIN read_parquet([${inputFiles}]) i USING (customer_id) WHERE s.as_of = DATE '${options.asOf}'`,
  );
  const auc = rocAuc(
    labelled.rows.map((r) => Number(r['score'])),
    labelled.rows.map((r) => Number(r['label'])),
  );
  const top = await queryScores(
    store,
    scoresUri,
    `SELECT s.customer_id, round(s.score, 3) AS score, i.plan, round(i.mrr) AS mrr, s.reason_1_text, s.reason_2_text, s.reason_3_text
     FROM scores s JOIN read_parquet([${inputFiles}]) i USING (customer_id)
     WHERE s.as_of = DATE '${options.asOf}' ORDER BY s.score DESC, s.customer_id LIMIT 10`,
  );
  // The synthetic snapshot carries its own outcomes: evaluate the run with them (stored beside
  // it), so the report shows realized performance, then write the report.
  const evaluation = await evaluateRun(store, { scoresUri, asOf: summary.asOf, model: summary.model, labelsUri: synth.partitionUri });
  const report = await writeRunReport(store, { scoresUri, asOf: summary.asOf, model: summary.model, outUri: path.join(root, 'report.html') });

  io.out('');
  io.out(`churn demo: ${fmt(summary.rowsRead)} customers as of ${summary.asOf}, model ${summary.model} on ${summary.device}`);
  io.out(`  scored      ${fmt(summary.rowsScored)} active customers`);
  io.out(`  ineligible  ${fmt(summary.rowsIneligible)} (cancelled or paused)`);
  io.out(`  quarantined ${fmt(summary.rowsQuarantined)}`);
  io.out(`  explained   ${fmt(summary.rowsExplained)} (policy ${bundle.manifest.explain.policy}, ${fmt(summary.modelEvaluations)} model evaluations)`);
  io.out(`  risk bands  ${Object.entries(summary.bandCounts).map(([b, n]) => `${b} ${fmt(n)}`).join(', ')}`);
  io.out(`  throughput  ${fmt(summary.rowsPerSecond)} rows/s end to end (${summary.seconds}s)`);
  const training = bundle.manifest.training;
  if (training) {
    io.out(
      `  AUC         held-out at training ${training.heldOutAuc.toFixed(4)}` +
        (training.trueAuc === undefined ? '' : ` (true process ${training.trueAuc.toFixed(4)})`) +
        `; on this fresh snapshot ${auc.toFixed(4)}`,
    );
  }
  io.out(`  score table ${summary.output}`);
  io.out(`  report      ${report.uri} (evaluated AUC ${evaluation.metrics.auc?.toFixed(4) ?? 'undefined'}, drift ${report.input.drift?.status ?? 'not computed'})`);
  io.out('');
  io.out('10 highest-risk active customers, and why:');
  top.rows.forEach((row, i) => {
    io.out(`  ${String(i + 1).padStart(2)}. ${String(row['customer_id'])}  churn risk ${Number(row['score']).toFixed(3)}  (${String(row['plan'])}, MRR ${String(row['mrr'])})`);
    for (const k of [1, 2, 3]) {
      const text = row[`reason_${k}_text`];
      if (text) io.out(`        - ${String(text)}`);
    }
  });
  io.out('');
  io.out(`try: npx churn query "SELECT reason_1, count(*) AS customers FROM scores WHERE risk_band = 'high' GROUP BY 1 ORDER BY 2 DESC" --scores ${scoresUri}`);
  io.out(JSON.stringify({ ...summary, freshAuc: auc, heldOutAuc: training?.heldOutAuc, evaluatedAuc: evaluation.metrics.auc, report: report.uri }));
}

export function registerDemoCommand(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('generate 1,000,000 synthetic customers, score them with the committed model and show the riskiest')
    .option('--customers <n>', 'customers to generate', positiveInt, 1_000_000)
    .option('--dir <path>', 'local folder for the snapshot and the score table', '.churn-demo')
    .option('--as-of <date>', 'snapshot date', new Date().toISOString().slice(0, 10))
    .option('--seed <n>', 'random seed for the snapshot', nonNegativeInt, 2026)
    .addOption(new Option('--device <device>', 'execution provider').choices(DEVICES).default('auto'))
    .action((options: DemoOptions) => runDemo(io, options));
}

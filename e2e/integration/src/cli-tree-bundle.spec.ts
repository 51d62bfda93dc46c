/**
 * A foreign tree-ensemble model through the built `churn` binary: the complete tree example of
 * docs/bundle-format.md, bundled with a TreeEnsembleClassifier in the shape the XGBoost /
 * LightGBM / scikit-learn converters emit (written with onnx-proto; the Python converters are not
 * installed here). Nulls reach the model as NaN, every row is explained by TreeSHAP (method auto)
 * and contributions add up; ZipMap outputs and fill: null on a non-tree model are refused.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { treeMargin, treeProbability, type TreeEnsemble } from '@churn/explain';
import { exportTreeEnsembleOnnx } from '@churn/model-trainer';
import { churn, REPO_ROOT } from './support/churn-cli';
import { duckdbRows } from './support/duckdb';
import { sklearnLikeOnnx } from './support/sklearn-like-model';

const AS_OF = '2026-07-01';

/** 40 XGBoost-like trees (BRANCH_LT, learned missing directions) of depth 3 over the example's four raw features. */
function xgboostLikeTrees(): TreeEnsemble {
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const ranges = [[0, 0.15], [0, 10], [0, 4], [30, 1500]] as const;
  const nodes: { f: number; t: number; m: number; miss: number; yes: number; no: number; v: number }[] = [];
  const grow = (d: number): number => {
    const at = nodes.length;
    nodes.push({ f: -1, t: 0, m: 6, miss: 0, yes: -1, no: -1, v: 0 });
    if (d === 0) {
      nodes[at]!.v = Math.fround((rnd() - 0.45) * 0.6);
      return at;
    }
    const f = Math.floor(rnd() * 4);
    const [lo, hi] = ranges[f]!;
    Object.assign(nodes[at]!, { f, t: Math.fround(lo + rnd() * (hi - lo)), m: 1, miss: rnd() < 0.5 ? 1 : 0 });
    const yes = grow(d - 1);
    const no = grow(d - 1);
    Object.assign(nodes[at]!, { yes, no });
    return at;
  };
  const roots = Array.from({ length: 40 }, () => grow(3));
  return {
    featureCount: 4,
    feature: Int32Array.from(nodes, (n) => n.f),
    threshold: Float64Array.from(nodes, (n) => n.t),
    mode: Uint8Array.from(nodes, (n) => n.m),
    missingTrue: Uint8Array.from(nodes, (n) => n.miss),
    trueChild: Int32Array.from(nodes, (n) => n.yes),
    falseChild: Int32Array.from(nodes, (n) => n.no),
    leafValue: Float64Array.from(nodes, (n) => n.v),
    roots: Int32Array.from(roots),
    base: Math.fround(-1.2),
    link: 'logistic',
  };
}

async function treeExample(): Promise<string> {
  const doc = await fs.readFile(path.join(REPO_ROOT, 'docs', 'bundle-format.md'), 'utf8');
  const example = /## Complete tree-ensemble example[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!example) throw new Error('docs/bundle-format.md has no "Complete tree-ensemble example" JSON block');
  return example;
}

describe('a foreign tree-ensemble bundle (docs/bundle-format.md)', () => {
  let dir: string;
  let data: string;
  const trees = xgboostLikeTrees();

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-trees-'));
    data = path.join(dir, 'data');
    expect((await churn(['synth', '--customers', '6000', '--as-of', AS_OF, '--out', data, '--seed', '9', '--files', '2'])).code).toBe(0);
    await fs.writeFile(path.join(dir, 'spec.json'), await treeExample());
    await fs.writeFile(path.join(dir, 'trees.onnx'), exportTreeEnsembleOnnx(trees, { shape: 'classifier' }));
    await fs.writeFile(path.join(dir, 'zipmap.onnx'), exportTreeEnsembleOnnx(trees, { shape: 'classifier', zipMap: true }));
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('refuses a converter output that ends in ZipMap, naming the fix', async () => {
    const run = await churn(['bundle', '--onnx', path.join(dir, 'zipmap.onnx'), '--spec', path.join(dir, 'spec.json'), '--out', path.join(dir, 'zipmap-bundle')]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/zipmap=False/);
  });

  it('refuses fill: null for a model that is not a tree ensemble, saying why', async () => {
    await fs.writeFile(path.join(dir, 'logistic.onnx'), sklearnLikeOnnx([1, 1, 1, 1], 0));
    const run = await churn(['bundle', '--onnx', path.join(dir, 'logistic.onnx'), '--spec', path.join(dir, 'spec.json'), '--out', path.join(dir, 'mlp-bundle')]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/nps.*"fill": null.*only tree-ensemble models.*finite fill/s);
  });

  it('bundles the example, scores nulls as NaN exactly as the trees do, and explains every row additively with TreeSHAP', async () => {
    const bundled = await churn(['bundle', '--onnx', path.join(dir, 'trees.onnx'), '--spec', path.join(dir, 'spec.json'), '--out', path.join(dir, 'bundle')]);
    expect(bundled.code).toBe(0);
    expect(bundled.stderr).toMatch(/TreeSHAP/);
    const out = path.join(dir, 'scores');
    const run = await churn(['score', '--input', data, '--model', path.join(dir, 'bundle'), '--output', out, '--explain', 'all', '--device', 'cpu']);
    expect(run.code).toBe(0);
    const summary = run.summary!;
    expect(summary['rowsExplained']).toBe(summary['rowsScored']);
    // TreeSHAP costs one model evaluation per shard (the baseline row), not thousands per row.
    expect(Number(summary['modelEvaluations'])).toBeLessThan(10);
    const rows = await duckdbRows(`SELECT s.customer_id, s.score, s.base_value, s.contrib_api_error_rate + s.contrib_nps + s.contrib_tickets_unanswered_48h + s.contrib_tenure AS contribs,
        s.contrib_nps, d.api_errors_30d, d.api_calls_30d, d.nps, d.tickets_unanswered_48h, d.tenure_days
      FROM read_parquet('${out}/as_of=${AS_OF}/**/*.parquet') s
      JOIN read_parquet('${data}/as_of=${AS_OF}/*.parquet') d USING (customer_id)`);
    expect(rows.length).toBe(Number(summary['rowsScored']));
    let nullNps = 0;
    let worstScore = 0;
    let worstGap = 0;
    for (const row of rows) {
      const calls = Number(row['api_calls_30d']);
      const rate = calls > 0 ? Math.min(Math.max(Number(row['api_errors_30d']) / calls, 0), 1) : 0;
      const nps = row['nps'] === null ? Number.NaN : Number(row['nps']);
      if (Number.isNaN(nps)) nullNps++;
      const x = Float32Array.of(rate, nps, Number(row['tickets_unanswered_48h']), Number(row['tenure_days']));
      worstScore = Math.max(worstScore, Math.abs(Number(row['score']) - treeProbability(trees, treeMargin(trees, x, 0))));
      worstGap = Math.max(worstGap, Math.abs(Number(row['base_value']) + Number(row['contribs']) - Number(row['score'])));
    }
    expect(nullNps).toBeGreaterThan(100);
    expect(worstScore).toBeLessThan(1e-6);
    expect(worstGap).toBeLessThan(1e-5);
  });
});

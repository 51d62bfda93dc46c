/**
 * The complete example in docs/bundle-format.md works as written: it validates, `churn bundle`
 * wraps a matching ONNX model with it, and the bundle scores a snapshot. A spec that disagrees
 * with the graph is refused with every problem listed.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseBundleManifest } from '@churn/model-bundle';
import { churn } from './support/churn-cli';
import { bundleFormatExample, sklearnLikeOnnx } from './support/sklearn-like-model';

describe('docs/bundle-format.md example', () => {
  let dir: string;
  let spec: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-doc-'));
    spec = path.join(dir, 'spec.json');
    await fs.writeFile(spec, await bundleFormatExample());
    await fs.writeFile(path.join(dir, 'model.onnx'), sklearnLikeOnnx([1.2, 0.8, -0.5, -0.3], -2));
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('is a valid bundle spec once a checksum is added', async () => {
    const json = JSON.parse(await fs.readFile(spec, 'utf8')) as { model: Record<string, unknown> };
    json.model['sha256'] = '0'.repeat(64);
    expect(parseBundleManifest(json).features).toHaveLength(4);
  });

  it('bundles a matching ONNX model and scores a snapshot with it', async () => {
    const bundle = path.join(dir, 'bundle');
    const made = await churn(['bundle', '--onnx', path.join(dir, 'model.onnx'), '--spec', spec, '--out', bundle]);
    expect(made.stderr).not.toMatch(/error/);
    expect(made.code).toBe(0);
    expect(made.summary?.['sha256']).toMatch(/^[0-9a-f]{64}$/);
    const data = path.join(dir, 'data');
    expect((await churn(['synth', '--customers', '3000', '--as-of', '2026-05-01', '--out', data, '--files', '1'])).code).toBe(0);
    const scored = await churn(['score', '--input', data, '--model', bundle, '--output', path.join(dir, 'scores'), '--device', 'cpu']);
    expect(scored.code).toBe(0);
    expect(scored.summary).toMatchObject({ model: 'churn-sklearn-2026.11.1', rowsRead: 3000, rowsQuarantined: 0 });
    // The example explains medium and high risk exactly (4 players), against the feature centers.
    expect(Number(scored.summary!['rowsExplained'])).toBeGreaterThan(0);
  });

  it('refuses a spec that disagrees with the graph, listing every problem', async () => {
    const json = JSON.parse(await fs.readFile(spec, 'utf8')) as { model: { input: { name: string }; output: { probabilityIndex: number } }; features: unknown[] };
    json.model.input.name = 'X';
    json.model.output.probabilityIndex = 2;
    const wrong = path.join(dir, 'wrong-spec.json');
    await fs.writeFile(wrong, JSON.stringify(json));
    const run = await churn(['bundle', '--onnx', path.join(dir, 'model.onnx'), '--spec', wrong, '--out', path.join(dir, 'wrong-bundle')]);
    expect(run.code).toBe(7);
    expect(run.stderr).toMatch(/MODEL_MISMATCH/);
    expect(run.stderr).toMatch(/the graph has no input "X" \(inputs: features\)/);
    expect(run.stderr).toMatch(/output "probabilities" has 2 column\(s\) but the bundle reads column 2/);
    await expect(fs.stat(path.join(dir, 'wrong-bundle', 'bundle.json'))).rejects.toThrow();
  });
});

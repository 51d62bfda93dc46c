import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isChurnError } from '@churn/errors';
import { loadBundle, parseBundleManifest, sha256Hex } from '@churn/model-bundle';
import { LocalObjectStore } from '@churn/object-store';
import { writeSynthDataset } from '@churn/synth-data';
import { trainBundle, type TrainResult } from './train-bundle';

jest.setTimeout(120_000);

const store = new LocalObjectStore();
let dir: string;
let dataUri: string;
let mlp: TrainResult;

const uri = (name: string) => pathToFileURL(join(dir, name)).href;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'model-trainer-'));
  dataUri = uri('snapshots');
  await writeSynthDataset(store, dataUri, { customers: 20_000, asOf: '2026-11-28', seed: 5, files: 2 });
  mlp = await trainBundle(store, { dataUri, outUri: uri('mlp'), seed: 7 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('trainBundle (mlp)', () => {
  it('learns the synthetic churn signal', () => {
    expect(mlp.heldOutAuc).toBeGreaterThan(0.7);
    expect(mlp.trueAuc).toBeDefined();
    // No model beats the generating probabilities by more than sampling noise.
    expect(mlp.heldOutAuc).toBeLessThan(mlp.trueAuc! + 0.02);
    // Only active customers (about 80%) are eligible; about 20% of them are held out.
    const used = mlp.trainRows + mlp.heldOutRows;
    expect(used).toBeGreaterThan(14_000);
    expect(used).toBeLessThan(18_000);
    expect(mlp.heldOutRows / used).toBeGreaterThan(0.15);
    expect(mlp.heldOutRows / used).toBeLessThan(0.25);
  });

  it('writes a bundle that loads, passes its checksum and validates', async () => {
    const loaded = await loadBundle(store, mlp.bundleUri);
    expect(loaded.manifest).toEqual(mlp.manifest);
    const json: unknown = JSON.parse(await readFile(join(dir, 'mlp', 'bundle.json'), 'utf8'));
    expect(() => parseBundleManifest(json)).not.toThrow();
    const { manifest } = loaded;
    expect(manifest).toMatchObject({
      name: 'churn-mlp',
      version: '1.0.0',
      model: { file: 'model.onnx', input: { name: 'features' }, output: { name: 'churn_probability', probabilityIndex: 0, kind: 'probability' } },
      eligibility: { column: 'status', in: ['active'] },
      training: { kind: 'mlp', seed: 7, trainRows: mlp.trainRows, heldOutRows: mlp.heldOutRows, heldOutAuc: mlp.heldOutAuc, trueAuc: mlp.trueAuc },
    });
    expect(manifest.training!.dataset).toMatch(/\/snapshots\/as_of=2026-11-28$/);
  });

  it('stores the training split standardisation in the spec, leaving indicators 0/1', () => {
    const byId = new Map(mlp.manifest.features.map((f) => [f.id, f]));
    expect(byId.get('tenure')!.center).toBeGreaterThan(3); // log1p of days: e.g. ln(366) ~ 5.9
    expect(byId.get('tenure')!.scale).toBeGreaterThan(0.1);
    expect(byId.get('api_error_rate')!.scale).not.toBe(1);
    for (const id of ['plan_free', 'plan_enterprise', 'never_logged_in', 'nps_missing']) {
      expect(byId.get(id)).toMatchObject({ center: 0, scale: 1 });
    }
  });

  it('profiles every feature and the score distribution of the held-out rows', () => {
    const reference = mlp.manifest.reference!;
    expect(reference.rows).toBe(mlp.heldOutRows);
    expect(Object.keys(reference.features)).toEqual(mlp.manifest.features.map((f) => f.id));
    for (const profile of Object.values(reference.features)) {
      expect(profile.counts.reduce((a, b) => a + b, 0)).toBe(reference.rows);
      expect(profile.edges.length).toBeGreaterThanOrEqual(2);
      expect(profile.edges.length).toBeLessThanOrEqual(11);
    }
    // About 30% of NPS answers are missing in the synthetic data; the profile sees them before fill.
    expect(reference.features['nps']!.nullRate).toBeGreaterThan(0.2);
    expect(reference.features['nps']!.nullRate).toBeLessThan(0.4);
    expect(reference.features['tenure']!.nullRate).toBe(0);
    expect(reference.score.counts.reduce((a, b) => a + b, 0)).toBe(reference.rows);
    expect(reference.score.quantiles).toHaveLength(101);
    expect(reference.score.mean).toBeGreaterThan(0.02);
    expect(reference.score.mean).toBeLessThan(0.3);
  });

  it('is deterministic: the same seed gives byte-identical model files', async () => {
    const again = await trainBundle(store, { dataUri, outUri: uri('mlp-again'), seed: 7 });
    const first = await readFile(join(dir, 'mlp', 'model.onnx'));
    const second = await readFile(join(dir, 'mlp-again', 'model.onnx'));
    expect(sha256Hex(second)).toBe(sha256Hex(first));
    expect(again.manifest.model.sha256).toBe(mlp.manifest.model.sha256);
    expect(again.heldOutAuc).toBe(mlp.heldOutAuc);
    expect(again.manifest.reference).toEqual(mlp.manifest.reference);
  });
});

describe('trainBundle options', () => {
  it('trains logistic regression', async () => {
    const result = await trainBundle(store, { dataUri, outUri: uri('logistic'), kind: 'logistic', seed: 7, version: '2.0.0' });
    expect(result.heldOutAuc).toBeGreaterThan(0.7);
    expect(result.manifest).toMatchObject({ name: 'churn-logistic', version: '2.0.0', training: { kind: 'logistic' } });
    expect((await loadBundle(store, result.bundleUri)).manifest.model.sha256).toBe(result.manifest.model.sha256);
  });

  it('samples at most maxRows rows, deterministically, with a different seed giving a different model', async () => {
    const a = await trainBundle(store, { dataUri, outUri: uri('small-a'), seed: 1, maxRows: 8_000, name: 'churn-small' });
    const b = await trainBundle(store, { dataUri, outUri: uri('small-b'), seed: 2, maxRows: 8_000, name: 'churn-small' });
    expect(a.trainRows + a.heldOutRows).toBeLessThanOrEqual(8_000);
    expect(a.trainRows + a.heldOutRows).toBeGreaterThan(5_000);
    expect(a.manifest.name).toBe('churn-small');
    expect(b.manifest.model.sha256).not.toBe(a.manifest.model.sha256);
  });

  it('refuses data without the label column', async () => {
    const error: unknown = await trainBundle(store, { dataUri, outUri: uri('nolabel'), labelColumn: 'renewed' }).catch((e: unknown) => e);
    expect(isChurnError(error, 'CONTRACT_VIOLATION')).toBe(true);
    expect((error as Error).message).toMatch(/no label column "renewed"/);
  });
});

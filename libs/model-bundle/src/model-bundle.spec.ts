import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ChurnError } from '@churn/errors';
import { LocalObjectStore } from '@churn/object-store';
import {
  bundleDigest,
  canonicalJson,
  loadBundle,
  modelId,
  parseBundleManifest,
  riskBandOf,
  semanticProblems,
  sha256Hex,
  writeBundle,
  type BundleManifestInput,
  type RiskBand,
} from './index';
import { churnErrorOf } from '@churn/testing';

/** A small but complete bundle.json: two numeric columns, a plan category, a status rule. */
function manifestFixture(overrides: Partial<BundleManifestInput> = {}): BundleManifestInput {
  return {
    formatVersion: 1,
    name: 'churn-mlp',
    version: '1.2.0',
    model: { sha256: 'a'.repeat(64), input: { name: 'features' }, output: { name: 'churn_probability' } },
    features: [
      { id: 'tenure', transform: { kind: 'numeric', column: 'tenure_days' } },
      { id: 'errors_per_call', transform: { kind: 'ratio', numerator: 'api_errors', denominator: 'api_calls', offset: 1 } },
      { id: 'plan_pro', transform: { kind: 'one_hot', column: 'plan', category: 'pro' }, group: 'plan' },
    ],
    inputContract: {
      idColumn: 'customer_id',
      columns: [
        { name: 'customer_id', type: 'string' },
        { name: 'tenure_days', type: 'integer', min: 0 },
        { name: 'api_errors', type: 'integer', min: 0 },
        { name: 'api_calls', type: 'integer', min: 0 },
        { name: 'plan', type: 'string', allowed: ['free', 'pro', 'enterprise'] },
        { name: 'status', type: 'string' },
      ],
    },
    eligibility: { column: 'status', in: ['active'] },
    riskBands: [
      { name: 'low', minScore: 0 },
      { name: 'medium', minScore: 0.3 },
      { name: 'high', minScore: 0.7 },
    ],
    ...overrides,
  };
}


function problemsOf(error: ChurnError): string[] {
  return error.details['problems'] as string[];
}

describe('parseBundleManifest', () => {
  it('accepts a minimal manifest and fills in every default', () => {
    const manifest = parseBundleManifest(manifestFixture());
    expect(manifest.model.file).toBe('model.onnx');
    expect(manifest.model.input.elementType).toBe('float32');
    expect(manifest.model.output).toEqual({ name: 'churn_probability', probabilityIndex: 0, kind: 'probability' });
    expect(manifest.features[0]).toEqual({
      id: 'tenure',
      transform: { kind: 'numeric', column: 'tenure_days' },
      fill: 0,
      log1p: false,
      center: 0,
      scale: 1,
      actionable: false,
    });
    expect(manifest.features[1]?.transform).toEqual({ kind: 'ratio', numerator: 'api_errors', denominator: 'api_calls', offset: 1 });
    expect(manifest.inputContract.maxBadRowFraction).toBe(0.05);
    expect(manifest.inputContract.rejectDuplicateIds).toBe(true);
    expect(manifest.inputContract.columns[0]?.nullable).toBe(false);
    expect(manifest.explain).toEqual({ method: 'auto', baseline: 'median', space: 'probability', policy: 'band:medium,high', permutations: 8 });
    expect(manifest.reference).toBeUndefined();
    expect(semanticProblems(manifest)).toEqual([]);
  });

  it('accepts fill: null (missing values kept for tree models) and explicit baselines: values or a background sample', () => {
    const base = manifestFixture();
    const features = base.features.map((f, i) => (i === 0 ? { ...f, fill: null } : f));
    const values = { tenure: 400, errors_per_call: null, plan_pro: 0 };
    const manifest = parseBundleManifest({ ...base, features, explain: { baseline: { values } } });
    expect(manifest.features[0]!.fill).toBeNull();
    expect(manifest.explain.baseline).toEqual({ values });
    expect(parseBundleManifest({ ...base, explain: { baseline: { background: [values, { ...values, tenure: 10 }] } } }).explain.baseline).toEqual({ background: [values, { ...values, tenure: 10 }] });
  });

  it('refuses explicit baselines that miss a feature, name an unknown one, or give both values and background', async () => {
    const base = manifestFixture();
    const missing = await churnErrorOf(() => parseBundleManifest({ ...base, explain: { baseline: { values: { tenure: 1, plan_pro: 0, nope: 3 } } } }));
    expect(problemsOf(missing)).toEqual(
      expect.arrayContaining([
        'explain.baseline.values.nope: no model feature has this id',
        'explain.baseline.values: no value for errors_per_call; give every feature a value (null for a missing one)',
      ]),
    );
    const both = await churnErrorOf(() => parseBundleManifest({ ...base, explain: { baseline: { values: {}, background: [{}] } } }));
    expect(problemsOf(both).join('\n')).toMatch(/either "values".*or "background"/);
  });

  it('keeps explicit values over defaults and accepts a snake_case name', () => {
    const input = manifestFixture({ name: 'churn_logistic' });
    input.model = { ...input.model, file: 'm.onnx', output: { name: 'probabilities', probabilityIndex: 1, kind: 'logit' } };
    const manifest = parseBundleManifest(input);
    expect(manifest.name).toBe('churn_logistic');
    expect(manifest.model.file).toBe('m.onnx');
    expect(manifest.model.output).toEqual({ name: 'probabilities', probabilityIndex: 1, kind: 'logit' });
  });

  it('reports every problem at once, each with its path', async () => {
    const input = manifestFixture();
    const bad = {
      ...input,
      model: { ...input.model, sha256: 'ABC123' },
      features: [
        { id: 'Tenure', transform: { kind: 'numeric', column: 'tenure_days' } },
        { id: 'spend', transform: { kind: 'cube_root', column: 'mrr' } },
        { id: 'seats', transform: { kind: 'numeric', column: 'seat_count' } },
        { id: 'plan_gold', transform: { kind: 'one_hot', column: 'plan', category: 'gold' } },
        { id: 'seats', transform: { kind: 'numeric', column: 'tenure_days' } },
      ],
      riskBands: [
        { name: 'low', minScore: 0.1 },
        { name: 'high', minScore: 0.7 },
        { name: 'medium', minScore: 0.3 },
      ],
    };
    const error = await churnErrorOf(() => parseBundleManifest(bad, 'file:///bundles/x/bundle.json'));
    expect(error.code).toBe('INVALID_BUNDLE');
    const problems = problemsOf(error);
    const expected = [
      // per-field schema problems
      /^model\.sha256: .*64 lower-case hex/,
      /^features\[0\]\.id: .*snake_case/,
      /^features\[1\]\.transform/,
      // cross-field problems, reported in the same pass
      /^features\[2\] \(seats\): column "seat_count" is not declared in inputContract\.columns/,
      /^features\[3\] \(plan_gold\): category "gold" is not in the allowed values of "plan"/,
      /^features\[4\] \(seats\): duplicate feature id "seats"/,
      /^riskBands\[0\]: the first band must start at minScore 0/,
      /^riskBands\[2\] \(medium\): minScore must be above the previous band's 0\.7/,
    ];
    for (const pattern of expected) expect(problems).toContainEqual(expect.stringMatching(pattern));
    expect(problems).toHaveLength(expected.length);
    expect(error.message).toContain(`file:///bundles/x/bundle.json is invalid (${expected.length} problems)`);
    for (const problem of problems) expect(error.message).toContain(`  - ${problem}`);
    expect(error.details['source']).toBe('file:///bundles/x/bundle.json');
  });

  it('skips the cross-field rules that depend on a section that is itself invalid', async () => {
    const input = manifestFixture();
    const bad = {
      ...input,
      inputContract: { ...input.inputContract, maxBadRowFraction: 2 },
      features: [...input.features, { id: 'seats', transform: { kind: 'numeric', column: 'seat_count' } }],
      riskBands: [{ name: 'Low', minScore: 0.2 }],
    };
    const problems = problemsOf(await churnErrorOf(() => parseBundleManifest(bad)));
    // No "not declared" noise from the unreadable contract, no band-order noise from the unreadable bands.
    expect(problems).toEqual([expect.stringMatching(/^inputContract\.maxBadRowFraction: /), expect.stringMatching(/^riskBands\[0\]\.name: /)]);
  });

  it('reports the cross-field rules of a schema-valid manifest', async () => {
    const input = manifestFixture();
    const bad: BundleManifestInput = {
      ...input,
      features: [
        { id: 'plan_text', transform: { kind: 'numeric', column: 'plan' } },
        { id: 'clipped', transform: { kind: 'is_null', column: 'tenure_days' }, clip: [5, 1] },
      ],
      inputContract: {
        idColumn: 'account',
        columns: [
          { name: 'plan', type: 'string' },
          { name: 'tenure_days', type: 'integer', min: 10, max: 1 },
          { name: 'plan', type: 'string' },
          { name: 'status', type: 'string' },
        ],
      },
      eligibility: { column: 'state', in: ['active'] },
      riskBands: [
        { name: 'low', minScore: 0 },
        { name: 'low', minScore: 0.5 },
      ],
    };
    const error = await churnErrorOf(() => parseBundleManifest(bad));
    expect(error.code).toBe('INVALID_BUNDLE');
    const problems = problemsOf(error);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^features\[0\] \(plan_text\): column "plan" has contract type string, expected integer or number or boolean/),
        expect.stringMatching(/^features\[1\] \(clipped\): clip min 5 is above max 1/),
        expect.stringMatching(/^inputContract\.idColumn: "account" is not declared/),
        expect.stringMatching(/^inputContract\.columns\[2\]: duplicate column "plan"/),
        expect.stringMatching(/^inputContract\.columns\[1\] \(tenure_days\): min 10 is above max 1/),
        expect.stringMatching(/^eligibility: column "state" is not declared/),
        'riskBands: band names must be unique',
      ]),
    );
    expect(problems).toHaveLength(7);
    expect(error.message).toContain('bundle.json is invalid (7 problems)');
  });

  it('refuses a nullable id column and reference features that are not model features', async () => {
    const input = manifestFixture();
    const contract = input.inputContract;
    const bad = {
      ...input,
      inputContract: { ...contract, columns: contract.columns.map((c) => (c.name === 'customer_id' ? { ...c, nullable: true } : c)) },
      reference: {
        rows: 10,
        features: { churn_score: { edges: [0, 1], counts: [10], nullRate: 0, mean: 0.5, median: 0.5, min: 0, max: 1 } },
        score: { edges: [0, 1], counts: [10], quantiles: Array.from({ length: 101 }, (_, i) => i / 100), mean: 0.5 },
      },
    };
    const problems = problemsOf(await churnErrorOf(() => parseBundleManifest(bad)));
    expect(problems).toEqual([
      'inputContract.idColumn: "customer_id" must not be nullable',
      'reference.features.churn_score: no model feature has this id',
    ]);
  });

  it('says "1 problem" for a single problem and names (root) for a non-object', async () => {
    const one = await churnErrorOf(() => parseBundleManifest({ ...manifestFixture(), formatVersion: 2 }));
    expect(one.message).toContain('bundle.json is invalid (1 problem):');
    expect(problemsOf(one)).toEqual([expect.stringMatching(/^formatVersion: /)]);
    const root = await churnErrorOf(() => parseBundleManifest('not an object'));
    expect(root.code).toBe('INVALID_BUNDLE');
    expect(problemsOf(root)).toEqual([expect.stringMatching(/^\(root\): /)]);
  });

  it('refuses unknown keys (typos) instead of ignoring them', async () => {
    const error = await churnErrorOf(() => parseBundleManifest({ ...manifestFixture(), riskbands: [] }));
    expect(error.code).toBe('INVALID_BUNDLE');
    expect(error.message).toContain('riskbands');
  });
});

describe('modelId', () => {
  it('is name-version', () => {
    expect(modelId({ name: 'churn-mlp', version: '1.2.0' })).toBe('churn-mlp-1.2.0');
    expect(modelId(parseBundleManifest(manifestFixture({ name: 'churn_lr', version: '2024.06.01+b7' })))).toBe('churn_lr-2024.06.01+b7');
  });
});

describe('riskBandOf', () => {
  const bands: RiskBand[] = [
    { name: 'low', minScore: 0 },
    { name: 'medium', minScore: 0.3 },
    { name: 'high', minScore: 0.7 },
  ];

  it('puts a score on a boundary into the band that starts there', () => {
    expect(riskBandOf(bands, 0)).toBe('low');
    expect(riskBandOf(bands, 0.2999999)).toBe('low');
    expect(riskBandOf(bands, 0.3)).toBe('medium');
    expect(riskBandOf(bands, 0.6999999)).toBe('medium');
    expect(riskBandOf(bands, 0.7)).toBe('high');
    expect(riskBandOf(bands, 1)).toBe('high');
  });

  it('falls back to the first band below 0 or for NaN, and to "unknown" without bands', () => {
    expect(riskBandOf(bands, -0.5)).toBe('low');
    expect(riskBandOf(bands, Number.NaN)).toBe('low');
    expect(riskBandOf([], 0.5)).toBe('unknown');
    expect(riskBandOf([{ name: 'all', minScore: 0 }], 0.99)).toBe('all');
  });
});

describe('writeBundle / loadBundle', () => {
  const store = new LocalObjectStore();
  const modelBytes = Uint8Array.from({ length: 257 }, (_, i) => (i * 31) % 256);
  let dir: string;
  let bundleUri: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-model-bundle-'));
    bundleUri = pathToFileURL(path.join(dir, 'bundle')).href;
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** The fixture without a checksum: writeBundle computes it. */
  function unsignedManifest(): Parameters<typeof writeBundle>[2] {
    const { model, ...rest } = manifestFixture();
    const { sha256: _ignored, ...unsigned } = model;
    return { ...rest, model: unsigned };
  }

  it('round-trips: the loaded manifest is the validated one and the model bytes are intact', async () => {
    const written = await writeBundle(store, bundleUri, unsignedManifest(), modelBytes);
    expect(written.model.sha256).toBe(sha256Hex(modelBytes));
    expect(written.model.sha256).toMatch(/^[0-9a-f]{64}$/);

    const loaded = await loadBundle(store, bundleUri);
    expect(loaded.uri).toBe(bundleUri);
    expect(loaded.manifest).toEqual(written);
    expect(Array.from(loaded.modelBytes)).toEqual(Array.from(modelBytes));
    expect((await fs.readdir(path.join(dir, 'bundle'))).sort()).toEqual(['bundle.json', 'model.onnx']);

    // bundle.json on disk is readable JSON with the checksum filled in.
    const json = JSON.parse(await fs.readFile(path.join(dir, 'bundle', 'bundle.json'), 'utf8')) as { model: { sha256: string } };
    expect(json.model.sha256).toBe(sha256Hex(modelBytes));
  });

  it('accepts a bare path and a trailing slash for the bundle location', async () => {
    await writeBundle(store, bundleUri, unsignedManifest(), modelBytes);
    const loaded = await loadBundle(store, `${path.join(dir, 'bundle')}/`);
    expect(loaded.manifest.name).toBe('churn-mlp');
  });

  it('replaces a stale checksum given by the caller with the real one', async () => {
    const manifest = unsignedManifest();
    const written = await writeBundle(store, bundleUri, { ...manifest, model: { ...manifest.model, sha256: 'f'.repeat(64) } }, modelBytes);
    expect(written.model.sha256).toBe(sha256Hex(modelBytes));
    await expect(loadBundle(store, bundleUri)).resolves.toBeDefined();
  });

  it('writes nothing when the manifest is invalid', async () => {
    const manifest = unsignedManifest();
    const error = await churnErrorOf(() => writeBundle(store, bundleUri, { ...manifest, riskBands: [{ name: 'low', minScore: 0.5 }] }, modelBytes));
    expect(error.code).toBe('INVALID_BUNDLE');
    await expect(fs.readdir(path.join(dir, 'bundle'))).rejects.toThrow();
  });

  it('refuses a tampered model with a checksum mismatch naming the file', async () => {
    const written = await writeBundle(store, bundleUri, unsignedManifest(), modelBytes);
    const modelPath = path.join(dir, 'bundle', 'model.onnx');
    const tampered = new Uint8Array(await fs.readFile(modelPath));
    tampered[100] = (tampered[100]! + 1) % 256;
    await fs.writeFile(modelPath, tampered);

    const error = await churnErrorOf(() => loadBundle(store, bundleUri));
    expect(error.code).toBe('INVALID_BUNDLE');
    expect(error.message).toContain('checksum mismatch');
    expect(error.message).toContain(`${bundleUri}/model.onnx`);
    expect(error.message).toContain(written.model.sha256);
    expect(error.details).toEqual({ uri: `${bundleUri}/model.onnx`, expected: written.model.sha256, actual: sha256Hex(tampered) });
  });

  it('reads the model from the file the manifest names', async () => {
    const manifest = unsignedManifest();
    await writeBundle(store, bundleUri, { ...manifest, model: { ...manifest.model, file: 'weights/churn.onnx' } }, modelBytes);
    expect(await fs.readFile(path.join(dir, 'bundle', 'weights', 'churn.onnx'))).toHaveLength(modelBytes.length);
    const loaded = await loadBundle(store, bundleUri);
    expect(loaded.manifest.model.file).toBe('weights/churn.onnx');
  });

  it('explains a missing bundle.json', async () => {
    const error = await churnErrorOf(() => loadBundle(store, bundleUri));
    expect(error.code).toBe('INVALID_BUNDLE');
    expect(error.message).toContain('model bundle has no bundle.json');
    expect(error.message).toContain(`${bundleUri}/bundle.json does not exist`);
    expect(error.details['uri']).toBe(`${bundleUri}/bundle.json`);
    expect((error.cause as ChurnError).code).toBe('INPUT_NOT_FOUND');
  });

  it('explains a missing model file', async () => {
    await writeBundle(store, bundleUri, unsignedManifest(), modelBytes);
    await fs.rm(path.join(dir, 'bundle', 'model.onnx'));
    const error = await churnErrorOf(() => loadBundle(store, bundleUri));
    expect(error.code).toBe('INVALID_BUNDLE');
    expect(error.message).toContain('model bundle has no model.onnx');
    expect(error.message).toContain(`${bundleUri}/model.onnx does not exist`);
  });

  it('refuses bundle.json that is not JSON, and one that is invalid, naming the file', async () => {
    await fs.mkdir(path.join(dir, 'bundle'));
    await fs.writeFile(path.join(dir, 'bundle', 'bundle.json'), '{ "formatVersion": 1,');
    const notJson = await churnErrorOf(() => loadBundle(store, bundleUri));
    expect(notJson.code).toBe('INVALID_BUNDLE');
    expect(notJson.message).toContain(`${bundleUri}/bundle.json is not valid JSON`);

    await fs.writeFile(path.join(dir, 'bundle', 'bundle.json'), JSON.stringify({ ...manifestFixture(), version: 'v1/2' }));
    const invalid = await churnErrorOf(() => loadBundle(store, bundleUri));
    expect(invalid.code).toBe('INVALID_BUNDLE');
    expect(invalid.message).toContain(`${bundleUri}/bundle.json is invalid (1 problem)`);
    expect(problemsOf(invalid)).toEqual([expect.stringMatching(/^version: /)]);
  });
});

describe('bundle digest', () => {
  const store = new LocalObjectStore();
  const modelBytes = Uint8Array.from({ length: 64 }, (_, i) => i);
  let dir: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'churn-digest-'));
  });

  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function bundleWith(name: string, json: unknown, bytes = modelBytes): Promise<string> {
    await fs.mkdir(path.join(dir, name), { recursive: true });
    await fs.writeFile(path.join(dir, name, 'bundle.json'), typeof json === 'string' ? json : JSON.stringify(json));
    await fs.writeFile(path.join(dir, name, 'model.onnx'), bytes);
    return path.join(dir, name);
  }

  const signed = (): BundleManifestInput => ({ ...manifestFixture(), model: { ...manifestFixture().model, sha256: sha256Hex(modelBytes) } });

  it('covers bundle.json and the model: reformatting keeps it, swapping two features changes it', async () => {
    const base = await loadBundle(store, await bundleWith('a', signed()));
    expect(base.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(base.digest).toBe(bundleDigest(signed(), modelBytes));
    const reformatted = await loadBundle(store, await bundleWith('b', `${JSON.stringify(signed(), null, 4)}\n`));
    expect(reformatted.digest).toBe(base.digest);
    const swapped = signed();
    swapped.features = [swapped.features[1]!, swapped.features[0]!, swapped.features[2]!];
    expect((await loadBundle(store, await bundleWith('c', swapped))).digest).not.toBe(base.digest);
    const otherModel = Uint8Array.from(modelBytes, (b) => b ^ 1);
    const retrained = { ...signed(), model: { ...signed().model, sha256: sha256Hex(otherModel) } };
    expect((await loadBundle(store, await bundleWith('d', retrained, otherModel))).digest).not.toBe(base.digest);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }] })).toBe('{"a":[{"c":null,"d":2}],"b":1}');
  });

  it('refuses a bundle whose digest differs from the planned one', async () => {
    const uri = await bundleWith('a', signed());
    const error = await churnErrorOf(() => loadBundle(store, uri, 'f'.repeat(64)));
    expect(error.code).toBe('INVALID_BUNDLE');
    expect(error.message).toMatch(/changed since the run was planned/);
  });

  it('refuses a model.file outside the bundle folder', async () => {
    for (const file of ['../model.onnx', '/etc/passwd', 's3://other/model.onnx', 'a//b.onnx']) {
      const uri = await bundleWith(`x${file.length}`, { ...signed(), model: { ...signed().model, file } });
      const error = await churnErrorOf(() => loadBundle(store, uri));
      expect(error.code).toBe('INVALID_BUNDLE');
      expect(error.message).toMatch(/must be a relative path inside the bundle folder/);
    }
  });
});

describe('sha256Hex', () => {
  it('is the lower-case hex digest', () => {
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

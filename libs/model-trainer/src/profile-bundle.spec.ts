import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readRowGroups, readParquetFooter, resolvePartition } from '@churn/arrow-io';
import { ColumnCache, compileFeaturePipeline, eligibleMask, validateContract } from '@churn/feature-transforms';
import { loadBundle, referenceProfileSchema } from '@churn/model-bundle';
import { computeDrift, createDriftAccumulator, mergeDriftHistograms, type DriftHistograms } from '@churn/monitoring';
import { LocalObjectStore } from '@churn/object-store';
import { writeSynthDataset } from '@churn/synth-data';
import { profileBundle, type ReferenceProfileResult } from './profile-bundle';

jest.setTimeout(120_000);

const COMMITTED_BUNDLE = resolve(__dirname, '..', '..', '..', 'models', 'churn-mlp');
const store = new LocalObjectStore();
let dir: string;
let dataUri: string;
let bundleUri: string;
let result: ReferenceProfileResult & { bundleUri: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'profile-bundle-'));
  dataUri = pathToFileURL(join(dir, 'snapshots')).href;
  bundleUri = pathToFileURL(join(dir, 'bundle')).href;
  await cp(COMMITTED_BUNDLE, join(dir, 'bundle'), { recursive: true });
  await writeSynthDataset(store, dataUri, { customers: 8_000, asOf: '2026-05-01', seed: 21, files: 2, dirty: 0.02 });
  result = await profileBundle(store, { bundleUri, dataUri, outUri: pathToFileURL(join(dir, 'profiled')).href });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('profileBundle', () => {
  it('writes a bundle that loads (checksum intact) with a profile of the snapshot', async () => {
    const profiled = await loadBundle(store, result.bundleUri);
    const original = await loadBundle(store, bundleUri);
    expect(profiled.modelBytes).toEqual(original.modelBytes);
    const reference = referenceProfileSchema.parse(profiled.manifest.reference);
    expect(reference.rows).toBe(result.rowsProfiled);
    expect(result.rowsProfiled + result.rowsQuarantined + result.rowsIneligible).toBe(8_000);
    expect(reference.quarantineRate).toBeCloseTo(result.rowsQuarantined / 8_000, 12);
    expect(reference.quarantineRate).toBeGreaterThan(0.01); // dirty 2%, less the wrong-type file's share
    for (const [id, feature] of Object.entries(reference.features)) {
      expect([id, feature.counts.reduce((a, b) => a + b, 0)]).toEqual([id, reference.rows]);
    }
    expect(reference.score.counts.reduce((a, b) => a + b, 0)).toBe(reference.rows);
    // the trained model's record is kept; only the profile changed
    expect(profiled.manifest.training).toEqual(original.manifest.training);
    expect(JSON.parse(await readFile(join(dir, 'profiled', 'bundle.json'), 'utf8')).reference.rows).toBe(reference.rows);
  });

  it('bins exactly like scoring does: the pipeline sink over the same rows reproduces the profile (PSI 0)', async () => {
    const { manifest } = await loadBundle(store, result.bundleUri);
    const reference = manifest.reference!;
    const pipeline = compileFeaturePipeline(manifest.features);
    const partition = await resolvePartition(store, dataUri);
    let merged: DriftHistograms | undefined;
    for (const file of partition.files) {
      const footer = await readParquetFooter({ store, uri: file.uri, size: file.size });
      const table = await readRowGroups({ store, uri: file.uri, size: file.size, rowGroups: footer.rowGroupRows.map((_, i) => i), columns: footer.schema.fields.map((f) => f.name) });
      const columns = new ColumnCache(table);
      const { badRows } = validateContract(columns, manifest.inputContract);
      const eligible = eligibleMask(columns, manifest.eligibility);
      const rows = Int32Array.from({ length: table.numRows }, (_, r) => r).filter((r) => !badRows.has(r) && eligible[r] === 1);
      const accumulator = createDriftAccumulator(reference, pipeline.featureIds);
      pipeline.transform(columns, rows, new Float32Array(rows.length * pipeline.featureIds.length), accumulator);
      const shard = accumulator.toJSON();
      merged = merged ? mergeDriftHistograms(merged, shard) : shard;
    }
    for (const [id, profile] of Object.entries(reference.features)) {
      const histogram = merged!.features[id]!;
      expect([id, histogram.counts]).toEqual([id, profile.counts]);
      expect([id, histogram.nulls / reference.rows]).toEqual([id, expect.closeTo(profile.nullRate, 12)]);
    }
    const drift = computeDrift(reference, { ...merged!, score: { counts: reference.score.counts } }, manifest.drift, { quarantineRate: reference.quarantineRate! });
    expect(drift.status).toBe('ok');
    expect(Math.max(...drift.features.map((f) => f.psi!))).toBeLessThan(1e-12);
  });
});

import { readParquetFooter, readRowGroups, resolvePartition } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import { ColumnCache, eligibleMask, transformColumns, validateContract } from '@churn/feature-transforms';
import { loadBundle, modelIoOf, writeBundle, type BundleManifest, type ReferenceProfile } from '@churn/model-bundle';
import { normalizeUri, type ObjectStore } from '@churn/object-store';
import { OnnxScorer, type Device } from '@churn/onnx-runner';
import { countNulls, nullProbeFeatures, withoutStandardization } from './feature-standardization';
import { buildReferenceProfile } from './reference-profile';
import { featureMatrix, type RowSet } from './training-data';

export interface ReferenceProfileOptions {
  /** Dataset root (`<root>/as_of=YYYY-MM-DD/`) or a partition folder: the model's training snapshot. */
  dataUri: string;
  /** Partition to profile; default the latest. */
  asOf?: string;
  log?: (message: string) => void;
}

export interface ReferenceProfileResult {
  reference: ReferenceProfile;
  partitionUri: string;
  rowsRead: number;
  /** Valid, eligible rows the profile describes. */
  rowsProfiled: number;
  rowsQuarantined: number;
  rowsIneligible: number;
}

interface Profiled {
  raw: Float32Array;
  nulls: number[];
  scores: Float32Array;
  rows: number;
}

/** An ONNX Runtime session for a bundle's model, read as the bundle says (input, output, P(churn) column). */
export async function createBundleScorer(bundle: { manifest: BundleManifest; modelBytes: Uint8Array }, device: Device = 'cpu'): Promise<OnnxScorer> {
  const { manifest, modelBytes } = bundle;
  return OnnxScorer.create({
    modelBytes,
    ...modelIoOf(manifest),
    device,
  });
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * The reference profile of a bundle's model on a snapshot, computed exactly as the trainer
 * computes it (buildReferenceProfile over the same feature kernels): the snapshot's valid,
 * eligible rows, their unstandardised feature values, null counts before fill, and the scores of
 * the bundle's own model (ONNX Runtime, CPU). Rows that break the input contract are left out and
 * counted in `quarantineRate`. Files are read one at a time, so memory holds one file's columns.
 */
export async function computeReferenceProfile(
  store: ObjectStore,
  bundle: { manifest: BundleManifest; modelBytes: Uint8Array },
  options: ReferenceProfileOptions,
): Promise<ReferenceProfileResult> {
  const { manifest } = bundle;
  const features = manifest.features;
  const width = features.length;
  const partition = await resolvePartition(store, options.dataUri, options.asOf);
  const columns = [...new Set([...manifest.inputContract.columns.map((c) => c.name), ...features.flatMap(transformColumns), ...(manifest.eligibility ? [manifest.eligibility.column] : [])])];
  const scorer = await createBundleScorer(bundle);
  const parts: Profiled[] = [];
  const counts = { read: 0, quarantined: 0, ineligible: 0 };
  try {
    for (const file of partition.files) {
      const footer = await readParquetFooter({ store, uri: file.uri, size: file.size });
      const table = await readRowGroups({ store, uri: file.uri, size: file.size, rowGroups: footer.rowGroupRows.map((_, i) => i), columns });
      const cache = new ColumnCache(table);
      const { badRows } = validateContract(cache, manifest.inputContract);
      const eligible = eligibleMask(cache, manifest.eligibility);
      const kept: number[] = [];
      for (let r = 0; r < table.numRows; r++) {
        if (badRows.has(r)) counts.quarantined++;
        else if (!eligible[r]) counts.ineligible++;
        else kept.push(r);
      }
      counts.read += table.numRows;
      const set: RowSet = { chunks: [{ columns: cache, rows: Int32Array.from(kept) }], count: kept.length, labels: new Uint8Array(0) };
      const scores = kept.length > 0 ? await scorer.score(featureMatrix(set, features), kept.length) : new Float32Array(0);
      parts.push({
        raw: featureMatrix(set, withoutStandardization(features)),
        nulls: countNulls(featureMatrix(set, nullProbeFeatures(features)), kept.length, width),
        scores,
        rows: kept.length,
      });
      options.log?.(`profiled ${file.uri}: ${kept.length} of ${table.numRows} rows (${badRows.size} break the contract)`);
    }
  } finally {
    await scorer.release();
  }
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  if (rows === 0) {
    throw new ChurnError('INPUT_NOT_FOUND', `${partition.partitionUri} has no valid, eligible rows to profile (${counts.read} read, ${counts.quarantined} break the input contract, ${counts.ineligible} not eligible)`, {
      details: { partition: partition.partitionUri, ...counts },
    });
  }
  const reference = buildReferenceProfile({
    featureIds: features.map((f) => f.id),
    raw: concat(parts.map((p) => p.raw)),
    nullCounts: features.map((_, f) => parts.reduce((a, p) => a + p.nulls[f]!, 0)),
    scores: concat(parts.map((p) => p.scores)),
    rows,
    quarantineRate: counts.quarantined / counts.read,
  });
  return { reference, partitionUri: partition.partitionUri, rowsRead: counts.read, rowsProfiled: rows, rowsQuarantined: counts.quarantined, rowsIneligible: counts.ineligible };
}

export interface ProfileBundleOptions extends ReferenceProfileOptions {
  bundleUri: string;
  /** Where to write the profiled bundle; default in place (bundle.json rewritten, model unchanged). */
  outUri?: string;
}

/**
 * Adds (or replaces) the reference profile of a bundle, e.g. one made with `churn bundle` from a
 * model trained elsewhere, so it gets drift monitoring and median/mean explanation baselines.
 * The bundle is written back through writeBundle: checksum recomputed, schema checked.
 */
export async function profileBundle(store: ObjectStore, options: ProfileBundleOptions): Promise<ReferenceProfileResult & { bundleUri: string; manifest: BundleManifest }> {
  const bundle = await loadBundle(store, options.bundleUri);
  const result = await computeReferenceProfile(store, bundle, options);
  const bundleUri = normalizeUri(options.outUri ?? options.bundleUri);
  const { sha256: _replaced, ...model } = bundle.manifest.model;
  const manifest = await writeBundle(store, bundleUri, { ...bundle.manifest, model, reference: result.reference }, bundle.modelBytes);
  return { ...result, bundleUri, manifest };
}

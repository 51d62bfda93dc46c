import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ParquetReader } from 'parquetjs-lite';
import { finishValue } from '@churn/feature-transforms';
import type { BundleManifest, FeatureSpec } from '@churn/model-bundle';

/** Per-row feature value, the way a notebook computes it: from a plain row object. */
function rowFeature(feature: FeatureSpec, row: Record<string, unknown>): number {
  const t = feature.transform;
  const num = (c: string) => (row[c] === null || row[c] === undefined ? Number.NaN : Number(row[c]));
  switch (t.kind) {
    case 'numeric':
      return finishValue(feature, num(t.column));
    case 'ratio': {
      const d = num(t.denominator) + t.offset;
      return finishValue(feature, d === 0 ? Number.NaN : (num(t.numerator) + t.offset) / d);
    }
    case 'one_hot':
      return finishValue(feature, row[t.column] === null || row[t.column] === undefined ? Number.NaN : row[t.column] === t.category ? 1 : 0);
    case 'is_null':
      return finishValue(feature, row[t.column] === null || row[t.column] === undefined ? 1 : 0);
  }
}

export interface BaselineResult {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
}

/**
 * The naive baseline: parquetjs-lite's row cursor and one `session.run` per row, on the first
 * `sampleRows` rows of a file (timed, then extrapolated; the whole file would take minutes).
 */
export async function runNaiveBaseline(options: { file: string; manifest: BundleManifest; modelBytes: Uint8Array; sampleRows: number }): Promise<BaselineResult> {
  const session = await InferenceSession.create(options.modelBytes, { executionProviders: ['cpu'] });
  const { manifest } = options;
  const width = manifest.features.length;
  const started = performance.now();
  const reader = await ParquetReader.openFile(options.file);
  const cursor = reader.getCursor();
  let rows = 0;
  let checksum = 0;
  for (let row = (await cursor.next()) as Record<string, unknown> | null; row && rows < options.sampleRows; row = (await cursor.next()) as Record<string, unknown> | null) {
    rows++;
    if (row[manifest.eligibility?.column ?? ''] !== undefined && manifest.eligibility && !manifest.eligibility.in.includes(String(row[manifest.eligibility.column]))) continue;
    const features = Float32Array.from(manifest.features, (f) => rowFeature(f, row));
    const out = await session.run({ [manifest.model.input.name]: new Tensor('float32', features, [1, width]) });
    checksum += (out[manifest.model.output.name]!.data as Float32Array)[0]!;
  }
  await reader.close();
  await session.release();
  const seconds = (performance.now() - started) / 1000;
  if (!Number.isFinite(checksum)) throw new Error('baseline produced a non-finite score');
  return { rows, seconds, rowsPerSecond: rows / seconds };
}

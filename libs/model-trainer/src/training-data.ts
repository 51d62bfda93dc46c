import type { Table } from 'apache-arrow';
import { readParquetFooter, readRowGroups, resolvePartition } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import { ColumnCache, compileFeaturePipeline, eligibleMask, transformColumns, validateContract } from '@churn/feature-transforms';
import type { EligibilityRule, FeatureSpec, InputContract } from '@churn/model-bundle';
import type { ObjectStore } from '@churn/object-store';
import { hashString, SeededRandom } from './seeded-random';

/** Rows of one file that passed every filter, with the decoded columns the feature kernels read. */
export interface RowChunk {
  columns: ColumnCache;
  /** Table row indices, ascending. */
  rows: Int32Array;
}

/** One side of the split: rows (in chunk order), their labels and, on synthetic data, true P(churn). */
export interface RowSet {
  chunks: RowChunk[];
  count: number;
  labels: Uint8Array;
  /** The data-generating probability of each row, when the data is synthetic. */
  truth?: Float64Array;
}

export interface LoadOptions {
  dataUri: string;
  asOf?: string;
  features: readonly FeatureSpec[];
  contract: InputContract;
  eligibility?: EligibilityRule;
  labelColumn: string;
  seed: number;
  /** Fraction of customers held out for evaluation and the reference profile. */
  heldOutFraction: number;
  maxRows?: number;
  /** Computes true probabilities from a table when every one of `columns` is in every file (synthetic data). */
  truth?: { columns: readonly string[]; probability: (table: Table) => Float64Array };
  log?: (message: string) => void;
}

export interface TrainingData {
  asOf: string;
  partitionUri: string;
  train: RowSet;
  heldOut: RowSet;
  /** Rows read, and rows dropped by each filter (in the order they apply). */
  counts: { read: number; sampledOut: number; badRows: number; ineligible: number; unlabelled: number };
}

/**
 * Which global row indices `maxRows` keeps: a seeded sample without replacement, so a capped run
 * sees rows from every file rather than the first files only.
 */
function sampleRows(total: number, maxRows: number, seed: number): Uint8Array | undefined {
  if (maxRows >= total) return undefined;
  const random = new SeededRandom(seed, 4);
  const keep = new Uint8Array(total);
  // Floyd's algorithm: exactly maxRows distinct indices, O(maxRows) draws and no index array.
  for (let j = total - maxRows; j < total; j++) {
    const t = random.nextInt(j + 1);
    if (keep[t]) keep[j] = 1;
    else keep[t] = 1;
  }
  return keep;
}

interface RowSetBuilder {
  chunks: RowChunk[];
  labels: number[];
  truth: number[];
}

function finish(builder: RowSetBuilder, withTruth: boolean): RowSet {
  const set: RowSet = { chunks: builder.chunks, count: builder.labels.length, labels: Uint8Array.from(builder.labels) };
  if (withTruth) set.truth = Float64Array.from(builder.truth);
  return set;
}

/**
 * Reads a dataset partition for training: only the needed columns, rows that break the input
 * contract dropped, only eligible and labelled rows kept, each customer assigned to the training
 * or held-out side by a seeded hash of its id.
 */
export async function loadTrainingData(store: ObjectStore, options: LoadOptions): Promise<TrainingData> {
  const { contract, labelColumn, seed, log } = options;
  const partition = await resolvePartition(store, options.dataUri, options.asOf);
  const footers = await Promise.all(partition.files.map((f) => readParquetFooter({ store, uri: f.uri, size: f.size })));
  const total = footers.reduce((sum, f) => sum + f.numRows, 0);
  const sample = options.maxRows === undefined ? undefined : sampleRows(total, Math.max(1, Math.floor(options.maxRows)), seed);
  const present = (name: string) => footers.every((f) => f.schema.fields.some((field) => field.name === name));
  if (!present(labelColumn)) {
    throw new ChurnError('CONTRACT_VIOLATION', `training data in ${partition.partitionUri} has no label column "${labelColumn}" (in every file); a training set needs the observed outcome per customer`, {
      details: { column: labelColumn },
    });
  }
  const withTruth = options.truth !== undefined && options.truth.columns.every(present);
  const columns = new Set([...contract.columns.map((c) => c.name), ...options.features.flatMap(transformColumns), labelColumn]);
  if (options.eligibility) columns.add(options.eligibility.column);
  if (withTruth) for (const c of options.truth!.columns) columns.add(c);

  const counts = { read: 0, sampledOut: 0, badRows: 0, ineligible: 0, unlabelled: 0 };
  const train: RowSetBuilder = { chunks: [], labels: [], truth: [] };
  const heldOut: RowSetBuilder = { chunks: [], labels: [], truth: [] };
  // Uint32 threshold: a customer is held out when its hash falls below it.
  const heldOutBelow = options.heldOutFraction * 4294967296;
  let globalStart = 0;
  for (const footer of footers) {
    const base = globalStart;
    globalStart += footer.numRows;
    if (sample && !sample.subarray(base, base + footer.numRows).includes(1)) {
      counts.sampledOut += footer.numRows;
      continue;
    }
    const table = await readRowGroups({
      store,
      uri: footer.uri,
      size: footer.size,
      rowGroups: footer.rowGroupRows.map((_, i) => i),
      columns: [...columns],
    });
    const cache = new ColumnCache(table);
    const { badRows, counts: reasons } = validateContract(cache, contract);
    const eligible = eligibleMask(cache, options.eligibility);
    const label = cache.numericColumn(labelColumn).values;
    const ids = cache.categoricalColumn(contract.idColumn);
    const idHashes = ids.categories.map((id) => hashString(id, seed));
    const truth = withTruth ? options.truth!.probability(table) : undefined;
    const sides = { train: [] as number[], heldOut: [] as number[] };
    for (let r = 0; r < table.numRows; r++) {
      if (sample && !sample[base + r]) {
        counts.sampledOut++;
        continue;
      }
      counts.read++;
      if (badRows.has(r)) counts.badRows++;
      else if (!eligible[r]) counts.ineligible++;
      else if (label[r] !== 0 && label[r] !== 1) counts.unlabelled++;
      else {
        // Valid rows have a non-null id (the contract requires it), so the code is >= 0.
        const side = idHashes[ids.codes[r]!]! < heldOutBelow ? heldOut : train;
        (side === heldOut ? sides.heldOut : sides.train).push(r);
        side.labels.push(label[r]!);
        if (truth) side.truth.push(truth[r]!);
      }
    }
    if (sides.train.length > 0) train.chunks.push({ columns: cache, rows: Int32Array.from(sides.train) });
    if (sides.heldOut.length > 0) heldOut.chunks.push({ columns: cache, rows: Int32Array.from(sides.heldOut) });
    const worst = [...reasons.entries()].sort((a, b) => b[1] - a[1])[0];
    log?.(`read ${footer.uri}: ${table.numRows} rows, ${badRows.size} break the contract${worst ? ` (most often "${worst[0]}", ${worst[1]} rows)` : ''}`);
  }
  return { asOf: partition.asOf, partitionUri: partition.partitionUri, train: finish(train, withTruth), heldOut: finish(heldOut, withTruth), counts };
}

/** The row-major float32 matrix of a row set's features, computed by the scoring kernels. */
export function featureMatrix(set: RowSet, features: readonly FeatureSpec[]): Float32Array {
  const pipeline = compileFeaturePipeline(features);
  const width = features.length;
  const out = new Float32Array(set.count * width);
  let offset = 0;
  for (const chunk of set.chunks) {
    pipeline.transform(chunk.columns, chunk.rows, out.subarray(offset * width, (offset + chunk.rows.length) * width));
    offset += chunk.rows.length;
  }
  return out;
}

/**
 * The benchmark's peer: the plain pipeline a team would write instead of the product, in about a
 * hundred lines of glue. DuckDB reads the snapshot partition, keeps the active customers and
 * computes the bundle's features in SQL as one `FLOAT[n]` array column (row-major in each chunk);
 * ONNX Runtime scores them in large batches; DuckDB writes `customer_id, score, risk_band` to a
 * zstd Parquet file. No contract checks, quarantine, explanations, drift or commit protocol.
 *
 * It deliberately uses none of the product's libs (a lint rule refuses `@churn/*` here), so the
 * comparison measures the product's code against DuckDB's, not against itself. It reads
 * `bundle.json` with its own schema of the few fields it needs.
 *
 * Run as a child process by `npm run bench` (`node dist/bench/duckdb-peer.js --partition ...`),
 * so its wall time, CPU seconds and peak RSS are those of a whole process.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { DuckDBDataChunk, DuckDBFloatType, DuckDBInstance, type DuckDBAppender } from '@duckdb/node-api';
// The node-api's vectors keep their typed arrays private; the raw binding (node-api's own
// dependency, same version) hands out a chunk's array child as bytes, one copy per chunk.
import duckdbBindings from '@duckdb/node-bindings';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { z } from 'zod';

const transformSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('numeric'), column: z.string() }),
  z.object({ kind: z.literal('ratio'), numerator: z.string(), denominator: z.string(), offset: z.number() }),
  z.object({ kind: z.literal('one_hot'), column: z.string(), category: z.string() }),
  z.object({ kind: z.literal('is_null'), column: z.string() }),
]);

/** The fields of bundle.json the peer needs (docs/bundle-format.md); the rest is ignored. */
export const peerBundleSchema = z.object({
  model: z.object({
    file: z.string(),
    input: z.object({ name: z.string() }),
    output: z.object({ name: z.string(), probabilityIndex: z.number().int().min(0), kind: z.enum(['probability', 'logit']) }),
  }),
  inputContract: z.object({ idColumn: z.string() }),
  eligibility: z.object({ column: z.string(), in: z.array(z.string()) }).optional(),
  features: z.array(
    z.object({
      id: z.string(),
      transform: transformSchema,
      fill: z.number(),
      clip: z.tuple([z.number(), z.number()]).optional(),
      log1p: z.boolean(),
      center: z.number(),
      scale: z.number(),
    }),
  ),
  riskBands: z.array(z.object({ name: z.string(), minScore: z.number() })).min(1),
});
export type PeerBundle = z.infer<typeof peerBundleSchema>;
type PeerFeature = PeerBundle['features'][number];

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
/** A double literal DuckDB reads back exactly (JavaScript's shortest round-trip form). */
const num = (value: number) => `${String(value)}::DOUBLE`;

/**
 * One feature as SQL, in the bundle's order of operations: the raw transform (NULL where it has
 * no value: a null column, a zero denominator, a null category), fill for NULL and NaN, clip
 * (which also maps +/-Infinity to the bounds), log1p, then standardisation, in double precision.
 * DuckDB has no log1p; `ln(1 + x)` can differ from it in the last bits of a double.
 */
export function featureSql(feature: PeerFeature): string {
  const t = feature.transform;
  const col = (name: string) => `CAST(${ident(name)} AS DOUBLE)`;
  let raw: string;
  switch (t.kind) {
    case 'numeric':
      raw = col(t.column);
      break;
    case 'ratio':
      raw = `CASE WHEN ${col(t.denominator)} + ${num(t.offset)} = 0 THEN NULL ELSE (${col(t.numerator)} + ${num(t.offset)}) / (${col(t.denominator)} + ${num(t.offset)}) END`;
      break;
    case 'one_hot':
      raw = `CASE WHEN ${ident(t.column)} IS NULL THEN NULL WHEN ${ident(t.column)} = ${literal(t.category)} THEN 1.0::DOUBLE ELSE 0.0::DOUBLE END`;
      break;
    case 'is_null':
      raw = `CASE WHEN ${ident(t.column)} IS NULL THEN 1.0::DOUBLE ELSE 0.0::DOUBLE END`;
      break;
  }
  let x = `(CASE WHEN (${raw}) IS NULL OR isnan(${raw}) THEN ${num(feature.fill)} ELSE ${raw} END)`;
  if (feature.clip) x = `greatest(least(${x}, ${num(feature.clip[1])}), ${num(feature.clip[0])})`;
  else x = `(CASE WHEN isinf(${x}) THEN ${num(feature.fill)} ELSE ${x} END)`;
  if (feature.log1p) x = `ln(1.0::DOUBLE + greatest(${x}, -0.999999::DOUBLE))`;
  return `(${x} - ${num(feature.center)}) / ${num(feature.scale)}`;
}

/** The risk band of a FLOAT score, compared in double precision like the product. */
function bandSql(bands: PeerBundle['riskBands'], score: string): string {
  const ordered = [...bands].sort((a, b) => b.minScore - a.minScore);
  const last = ordered.at(-1)!;
  return `CASE ${ordered
    .slice(0, -1)
    .map((b) => `WHEN CAST(${score} AS DOUBLE) >= ${num(b.minScore)} THEN ${literal(b.name)}`)
    .join(' ')} ELSE ${literal(last.name)} END`;
}

export interface PeerOptions {
  /** A partition folder (holding the snapshot's Parquet files). */
  partition: string;
  bundleDir: string;
  /** The scores Parquet file to write. */
  output: string;
  threads: number;
  batchRows: number;
}

export interface PeerResult {
  rows: number;
  rowsScored: number;
  seconds: number;
}

/** Copies `count` scores into the table through the appender, one data chunk per vector size. */
function appendScores(appender: DuckDBAppender, scores: Float32Array, count: number): void {
  const step = duckdbBindings.vector_size();
  for (let start = 0; start < count; start += step) {
    const n = Math.min(step, count - start);
    const chunk = DuckDBDataChunk.create([DuckDBFloatType.instance], n);
    const vector = chunk.getColumnVector(0);
    for (let i = 0; i < n; i++) vector.setItem(i, scores[start + i]!);
    vector.flush();
    appender.appendDataChunk(chunk);
  }
}

export async function runDuckdbPeer(options: PeerOptions): Promise<PeerResult> {
  const began = performance.now();
  const bundle = peerBundleSchema.parse(JSON.parse(await readFile(path.join(options.bundleDir, 'bundle.json'), 'utf8')));
  const width = bundle.features.length;
  const instance = await DuckDBInstance.create(':memory:', { threads: String(options.threads) });
  const conn = await instance.connect();
  const session = await InferenceSession.create(await readFile(path.join(options.bundleDir, bundle.model.file)), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: options.threads,
  });
  const source = `read_parquet(${literal(path.join(options.partition, '*.parquet'))})`;
  const where = bundle.eligibility ? `WHERE ${ident(bundle.eligibility.column)} IN (${bundle.eligibility.in.map(literal).join(', ')})` : '';
  const totalRows = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${source}`)).getRows()[0]![0]);
  // The features, materialised with the ids in insertion order, then streamed back chunk by chunk.
  await conn.run(
    `CREATE TABLE features AS SELECT ${ident(bundle.inputContract.idColumn)} AS customer_id, [${bundle.features.map(featureSql).join(', ')}]::FLOAT[${width}] AS x FROM ${source} ${where}`,
  );
  await conn.run('CREATE TABLE scores (score FLOAT)');
  // The appender gets its own connection: anything run on the streaming one ends its stream.
  const appendConn = await instance.connect();
  const appender = await appendConn.createAppender('scores');
  const result = await conn.stream('SELECT x FROM features');
  const batch = new Float32Array(options.batchRows * width);
  const { probabilityIndex, kind } = bundle.model.output;
  let filled = 0;
  let scored = 0;
  const flush = async () => {
    if (filled === 0) return;
    const input = new Tensor('float32', batch.subarray(0, filled * width), [filled, width]);
    const output = (await session.run({ [bundle.model.input.name]: input }))[bundle.model.output.name];
    if (!output) throw new Error(`the model returned no output ${bundle.model.output.name}`);
    const data = output.data as Float32Array;
    const stride = output.dims.length === 2 ? Number(output.dims[1]) : 1;
    const scores = new Float32Array(filled);
    for (let i = 0; i < filled; i++) {
      const v = data[i * stride + probabilityIndex]!;
      scores[i] = kind === 'logit' ? 1 / (1 + Math.exp(-v)) : v;
    }
    appendScores(appender, scores, filled);
    scored += filled;
    filled = 0;
  };
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    let offset = 0;
    while (offset < chunk.rowCount) {
      const n = Math.min(chunk.rowCount - offset, options.batchRows - filled);
      const child = duckdbBindings.array_vector_get_child(duckdbBindings.data_chunk_get_vector(chunk.chunk, 0));
      const bytes = duckdbBindings.vector_get_data(child, chunk.rowCount * width * 4);
      batch.set(new Float32Array(bytes.buffer, bytes.byteOffset + offset * width * 4, n * width), filled * width);
      filled += n;
      offset += n;
      if (filled === options.batchRows) await flush();
    }
  }
  await flush();
  appender.closeSync();
  appendConn.closeSync();
  await session.release();
  const stored = Number((await conn.runAndReadAll('SELECT (SELECT count(*) FROM features) - (SELECT count(*) FROM scores)')).getRows()[0]![0]);
  if (stored !== 0 || scored === 0) throw new Error(`the peer scored ${scored} rows but its features and scores tables differ by ${stored} rows`);
  await conn.run(
    `COPY (SELECT f.customer_id, s.score, ${bandSql(bundle.riskBands, 's.score')} AS risk_band FROM features f POSITIONAL JOIN scores s) TO ${literal(options.output)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  conn.closeSync();
  instance.closeSync();
  return { rows: totalRows, rowsScored: scored, seconds: (performance.now() - began) / 1000 };
}

export interface ScoreAgreement {
  productRows: number;
  peerRows: number;
  /** Rows in both, matched on customer_id, both scores present. */
  matched: number;
  maxAbsDiff: number;
  bandMismatches: number;
}

/** Joins the product's committed score parts with the peer's file on customer_id. */
export async function compareScores(productTable: string, peerFile: string): Promise<ScoreAgreement> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const product = `read_parquet(${literal(path.join(productTable, '**', '*.parquet'))})`;
  const peer = `read_parquet(${literal(peerFile)})`;
  const row = (
    await conn.runAndReadAll(
      `SELECT (SELECT count(*) FROM ${product}), (SELECT count(*) FROM ${peer}), count(*), coalesce(max(abs(CAST(p.score AS DOUBLE) - CAST(q.score AS DOUBLE))), 0), count(*) FILTER (WHERE p.risk_band <> q.risk_band)
       FROM ${product} p JOIN ${peer} q USING (customer_id) WHERE p.score IS NOT NULL AND q.score IS NOT NULL`,
    )
  ).getRows()[0]!;
  conn.closeSync();
  instance.closeSync();
  return { productRows: Number(row[0]), peerRows: Number(row[1]), matched: Number(row[2]), maxAbsDiff: Number(row[3]), bandMismatches: Number(row[4]) };
}

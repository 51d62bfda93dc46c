import type { RecordBatch, Table } from 'apache-arrow';
import type * as PgCopyStreams from 'pg-copy-streams';
import { z } from 'zod';
import { readParquetFooter, readRowGroups } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import { joinUri, type ObjectStore } from '@churn/object-store';
import { isCategorical, REASON_COUNT, segmentFieldsOf, tableLayout, type CommittedRunRef, type PublishState, type SegmentField } from '@churn/warehouse';
import { copyTextChunks, fieldEncoder, jsonObjectEncoder, type FieldEncoder } from './copy-encoder';
import { ident, inTransaction, type WarehouseConnection } from './warehouse-connection';
import { lockKey } from './warehouse-migrate';
import { createAnalystViews, SEGMENT_SQL_TYPES, segmentColumnsOf } from './warehouse-views';

/** Run states in `runs`; `held` runs are loaded but kept out of the analyst views until released. */
export const WAREHOUSE_RUN_STATES = ['loaded', 'held', 'released', 'replaced'] as const;
export type WarehouseRunState = (typeof WAREHOUSE_RUN_STATES)[number];

export interface LoadOutcome {
  state: PublishState;
  runState?: WarehouseRunState;
  rows: number;
  quarantineRows: number;
  seconds: number;
  note?: string;
}

const REASONS = Array.from({ length: REASON_COUNT }, (_, k) => `reason_${k + 1}`);
const REASON_TEXTS = REASONS.map((r) => `${r}_text`);
/** Columns of `scores` loaded from the same-named Parquet columns, in COPY order. */
const SCORE_COPY_COLUMNS = ['as_of', 'model_name', 'model_version', 'customer_id', 'score', 'risk_band', 'model_digest', 'run_id', 'scored_at', 'explained', 'base_value', ...REASONS, ...REASON_TEXTS] as const;
const QUARANTINE_COPY_COLUMNS = ['as_of', 'model_name', 'model_version', 'run_id', 'customer_id', 'source_file', 'row_index', 'reason_code', 'reason_detail'] as const;
const RESERVED = new Set<string>([...SCORE_COPY_COLUMNS, 'contributions']);

/** The parts of the drift report the warehouse keeps (monitoring's report, checked loosely). */
const statistic = z.number().nullable();
const driftRowsSchema = z
  .object({
    status: z.string(),
    features: z.array(z.object({ id: z.string(), psi: statistic, jsDistance: statistic, nullRate: z.number(), referenceNullRate: z.number(), status: z.string() }).loose()),
    score: z.object({ psi: statistic, jsDistance: statistic, status: z.string() }).loose(),
    quarantine: z.object({ rate: z.number(), referenceRate: z.number(), status: z.string() }).loose(),
  })
  .loose();

const copyFrom = (sql: string) => (require('pg-copy-streams') as typeof PgCopyStreams).from(sql);

async function readTable(store: ObjectStore, uri: string): Promise<Table> {
  const head = await store.head(uri);
  if (!head) throw new ChurnError('INPUT_NOT_FOUND', `${uri} is listed by its manifest but missing; the partition is damaged: score it again`, { details: { uri } });
  const footer = await readParquetFooter({ store, uri, size: head.size });
  const columns = footer.schema.fields.map((f) => f.name);
  return readRowGroups({ store, uri, size: head.size, rowGroups: footer.rowGroupRows.map((_, i) => i), columns });
}

/** The rows of Parquet parts as COPY text chunks, decoding the next part while this one is encoded. */
async function* copyTextOfParts(store: ObjectStore, uris: readonly string[], encodersOf: (batch: RecordBatch) => FieldEncoder[]): AsyncGenerator<string> {
  if (uris.length === 0) return;
  let next = readTable(store, uris[0]!);
  for (let p = 0; p < uris.length; p++) {
    const table = await next;
    if (p + 1 < uris.length) {
      next = readTable(store, uris[p + 1]!);
      next.catch(() => undefined);
    }
    for (const batch of table.batches) yield* copyTextChunks(batch, encodersOf(batch));
  }
}

/** Streams the rows of Parquet parts into a COPY. */
async function copyParts(conn: WarehouseConnection, sql: string, store: ObjectStore, uris: readonly string[], encodersOf: (batch: RecordBatch) => FieldEncoder[]): Promise<number> {
  if (uris.length === 0) return 0;
  const stream = conn.client.query(copyFrom(sql));
  let failed: Error | undefined;
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', (error: Error) => {
      failed = error;
      reject(error);
    });
  });
  done.catch(() => undefined);
  try {
    for await (const chunk of copyTextOfParts(store, uris, encodersOf)) {
      if (failed) throw failed;
      if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve));
    }
    stream.end();
    await done;
  } catch (error) {
    if (!failed) stream.destroy(error as Error);
    await done.catch(() => undefined);
    throw error;
  }
  return stream.rowCount;
}

/** The segment columns of a run's score parts (read from the first part's footer). */
async function segmentsOfParts(store: ObjectStore, partUris: readonly string[]): Promise<SegmentField[]> {
  const first = partUris[0];
  if (!first) return [];
  return segmentFieldsOf((await readParquetFooter({ store, uri: first, size: (await store.head(first))?.size ?? 0 })).schema);
}

function scoreEncoders(batch: RecordBatch, segments: readonly SegmentField[]): FieldEncoder[] {
  const col = (name: string) => {
    const v = batch.getChild(name);
    if (!v) throw new ChurnError('CORRUPT_INPUT', `a score part has no column ${name}`, { details: { column: name } });
    return v;
  };
  const encoders = SCORE_COPY_COLUMNS.map((name) => fieldEncoder(col(name), name));
  const explained = encoders[SCORE_COPY_COLUMNS.indexOf('explained')]!;
  const contributions = batch.schema.fields.filter((f) => f.name.startsWith('contrib_')).map((f) => ({ key: f.name.slice('contrib_'.length), vector: col(f.name) }));
  encoders.push(jsonObjectEncoder(contributions, explained));
  for (const s of segments) encoders.push(fieldEncoder(col(s.name), s.name));
  return encoders;
}

/** Adds the run's segment columns `scores` lacks (and recreates the views), under a lock. */
async function ensureSegments(conn: WarehouseConnection, fields: readonly SegmentField[]): Promise<void> {
  const s = conn.schemaSql;
  for (const f of fields) {
    if (RESERVED.has(f.name)) throw new ChurnError('WAREHOUSE_UNAVAILABLE', `segment column ${f.name} has the name of a warehouse column; rename it in the bundle's segments`, { details: { column: f.name } });
  }
  const known = new Map((await segmentColumnsOf(conn)).map((x) => [x.name, x]));
  if (fields.every((f) => known.has(f.name))) {
    for (const f of fields) checkSegmentType(f, known.get(f.name)!.type);
    return;
  }
  await conn.client.query('SELECT pg_advisory_xact_lock($1, $2)', [lockKey('churn-warehouse-segments'), lockKey(conn.endpoint.schema)]);
  const current = new Map((await segmentColumnsOf(conn)).map((x) => [x.name, x]));
  let added = false;
  for (const f of fields) {
    const have = current.get(f.name);
    if (have) {
      checkSegmentType(f, have.type);
      continue;
    }
    await conn.client.query(`ALTER TABLE ${s}.scores ADD COLUMN IF NOT EXISTS ${ident(f.name)} ${SEGMENT_SQL_TYPES[f.type]}`);
    await conn.client.query(`INSERT INTO ${s}.segment_columns (name, sql_type, categorical) VALUES ($1, $2, $3)`, [f.name, SEGMENT_SQL_TYPES[f.type], isCategorical(f)]);
    added = true;
  }
  if (added) await createAnalystViews(conn, await segmentColumnsOf(conn));
}

function checkSegmentType(f: SegmentField, have: string): void {
  if (have !== f.type) {
    throw new ChurnError('WAREHOUSE_UNAVAILABLE', `segment column ${f.name} is ${f.type} in this run but ${have} in the warehouse; give the column another name in the bundle, or load into another schema`, {
      details: { column: f.name, type: f.type, warehouseType: have },
    });
  }
}

/** The date's partition of `scores`, created on first use (under a lock: loads run concurrently). */
async function ensurePartition(conn: WarehouseConnection, asOf: string): Promise<void> {
  const name = `scores_${asOf.replace(/-/g, '')}`;
  const qualified = `${conn.schemaSql}.${ident(name)}`;
  const exists = async () => (await conn.client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [qualified])).rows[0]?.found === true;
  if (await exists()) return;
  await conn.client.query('SELECT pg_advisory_xact_lock($1, $2)', [lockKey(`churn-warehouse-partition:${conn.endpoint.schema}`), lockKey(asOf)]);
  if (await exists()) return;
  const next = new Date(Date.parse(`${asOf}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  await conn.client.query(`CREATE TABLE ${qualified} PARTITION OF ${conn.schemaSql}.scores FOR VALUES FROM ('${asOf}') TO ('${next}')`);
}

function driftRows(drift: unknown): Record<string, unknown>[] {
  const parsed = driftRowsSchema.safeParse(drift);
  if (!parsed.success) return [];
  const d = parsed.data;
  return [
    ...d.features.map((f) => ({ subject: f.id, kind: 'feature', psi: f.psi, js_distance: f.jsDistance, null_rate: f.nullRate, reference_null_rate: f.referenceNullRate, rate: null, reference_rate: null, status: f.status })),
    { subject: 'score', kind: 'score', psi: d.score.psi, js_distance: d.score.jsDistance, null_rate: null, reference_null_rate: null, rate: null, reference_rate: null, status: d.score.status },
    { subject: 'quarantine_rate', kind: 'quarantine', psi: null, js_distance: null, null_rate: null, reference_null_rate: null, rate: d.quarantine.rate, reference_rate: d.quarantine.referenceRate, status: d.quarantine.status },
  ];
}

/**
 * Loads one committed run into the warehouse in ONE transaction, so a reader sees the previous
 * version of the slice or this one, never half: replaces the run's (as_of, model) slice of
 * `scores` with COPY from the committed Parquet parts (read back, not re-derived), upserts the
 * run into `runs` (older runs of the slice become `replaced`), replaces the slice's quarantine
 * rows and the run's drift rows. Under a transaction-scoped advisory lock per slice, a load of
 * an older attempt of the run, or of an older run of the slice (by commit time), is refused as
 * `superseded` and changes nothing. Loading the same run twice leaves one copy.
 */
export async function loadCommittedRun(conn: WarehouseConnection, run: CommittedRunRef): Promise<LoadOutcome> {
  const t0 = performance.now();
  const { manifest, store } = run;
  const s = conn.schemaSql;
  const modelId = `${manifest.model.name}-${manifest.model.version}`;
  const layout = tableLayout(run.scoresUri).partition(manifest.asOf, modelId);
  const partUris = manifest.parts.map((p) => joinUri(layout.partitionUri, p.name));
  const quarantineUris: string[] = [];
  for (const p of manifest.quarantine.parts) {
    const uri = joinUri(layout.quarantinePartitionUri, p.name);
    if (p.rows > 0 && (await store.head(uri))) quarantineUris.push(uri);
  }
  const slice = [manifest.asOf, manifest.model.name, manifest.model.version];
  const runState: WarehouseRunState = run.held ? 'held' : manifest.gate?.held ? 'released' : 'loaded';
  return inTransaction(conn, async () => {
    await conn.client.query('SELECT pg_advisory_xact_lock($1, $2)', [lockKey(`churn-warehouse-slice:${conn.endpoint.schema}`), lockKey(slice.join('|'))]);
    const current = await conn.client.query<{ run_id: string; attempt: number; newer: boolean }>(
      `SELECT run_id, attempt, committed_at > $4::timestamptz AS newer FROM ${s}.runs
       WHERE as_of = $1 AND model_name = $2 AND model_version = $3 AND state <> 'replaced' FOR UPDATE`,
      [...slice, manifest.committedAt],
    );
    for (const c of current.rows) {
      const older = c.run_id === manifest.runId ? c.attempt > manifest.attempt : c.newer;
      if (older) {
        return {
          state: 'superseded',
          rows: 0,
          quarantineRows: 0,
          seconds: (performance.now() - t0) / 1000,
          note: `the warehouse holds ${c.run_id} attempt ${c.attempt}, newer than ${manifest.runId} attempt ${manifest.attempt}, for ${manifest.asOf} ${modelId}; nothing changed`,
        } satisfies LoadOutcome;
      }
    }
    const segments = await segmentsOfParts(store, partUris);
    await ensureSegments(conn, segments);
    await ensurePartition(conn, manifest.asOf);
    await conn.client.query(`DELETE FROM ${s}.scores WHERE as_of = $1 AND model_name = $2 AND model_version = $3`, slice);
    const columns = [...SCORE_COPY_COLUMNS, 'contributions', ...segments.map((x) => x.name)].map(ident).join(', ');
    const rows = await copyParts(conn, `COPY ${s}.scores (${columns}) FROM STDIN`, store, partUris, (batch) => scoreEncoders(batch, segments));
    if (rows !== manifest.rowsScored) {
      throw new ChurnError('WAREHOUSE_UNAVAILABLE', `the load of run ${manifest.runId} copied ${rows} score rows but the run committed ${manifest.rowsScored}; nothing was loaded: the parts under ${layout.partitionUri} changed since the commit`, {
        details: { runId: manifest.runId, rows, rowsScored: manifest.rowsScored },
      });
    }
    await conn.client.query(`DELETE FROM ${s}.quarantine WHERE as_of = $1 AND model_name = $2 AND model_version = $3`, slice);
    const quarantineRows = await copyParts(conn, `COPY ${s}.quarantine (${QUARANTINE_COPY_COLUMNS.join(', ')}) FROM STDIN`, store, quarantineUris, (batch) =>
      QUARANTINE_COPY_COLUMNS.map((name) => {
        const v = batch.getChild(name);
        if (!v) throw new ChurnError('CORRUPT_INPUT', `a quarantine part has no column ${name}`, { details: { column: name } });
        return fieldEncoder(v, name);
      }),
    );
    await conn.client.query(`UPDATE ${s}.runs SET state = 'replaced' WHERE as_of = $1 AND model_name = $2 AND model_version = $3 AND run_id <> $4 AND state <> 'replaced'`, [...slice, manifest.runId]);
    const seconds = Math.max(0, (Date.parse(manifest.committedAt) - Date.parse(manifest.startedAt)) / 1000);
    const driftStatus = driftRowsSchema.safeParse(manifest.drift).data?.status ?? null;
    const values = [
      manifest.runId, manifest.attempt, manifest.asOf, manifest.model.name, manifest.model.version, manifest.model.digest, manifest.input.partition, run.scoresUri, runState,
      manifest.rowsRead, manifest.rowsScored, manifest.rowsQuarantined, manifest.rowsIneligible, manifest.rowsExplained,
      manifest.startedAt, manifest.committedAt, seconds, manifest.cpuSeconds, manifest.device, driftStatus,
      JSON.stringify(manifest.settings), JSON.stringify(manifest.execution), JSON.stringify(manifest),
    ];
    const names = ['run_id', 'attempt', 'as_of', 'model_name', 'model_version', 'model_digest', 'dataset', 'output', 'state', 'rows_read', 'rows_scored', 'rows_quarantined', 'rows_ineligible', 'rows_explained', 'started_at', 'committed_at', 'seconds', 'cpu_seconds', 'device', 'drift_status', 'settings', 'execution', 'manifest'];
    await conn.client.query(
      `INSERT INTO ${s}.runs (${names.join(', ')}, loaded_at) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}, now())
       ON CONFLICT (run_id) DO UPDATE SET ${names.filter((n) => n !== 'run_id').map((n) => `${n} = EXCLUDED.${n}`).join(', ')}, loaded_at = now()`,
      values,
    );
    await conn.client.query(`DELETE FROM ${s}.drift WHERE run_id = $1`, [manifest.runId]);
    const drift = driftRows(manifest.drift);
    if (drift.length > 0) {
      await conn.client.query(
        `INSERT INTO ${s}.drift (run_id, as_of, model_name, model_version, subject, kind, psi, js_distance, null_rate, reference_null_rate, rate, reference_rate, status)
         SELECT $1, $2, $3, $4, x.subject, x.kind, x.psi, x.js_distance, x.null_rate, x.reference_null_rate, x.rate, x.reference_rate, x.status
         FROM jsonb_to_recordset($5::jsonb) AS x(subject text, kind text, psi double precision, js_distance double precision, null_rate double precision,
           reference_null_rate double precision, rate double precision, reference_rate double precision, status text)`,
        [manifest.runId, ...slice, JSON.stringify(drift)],
      );
    }
    return { state: 'loaded', runState, rows, quarantineRows, seconds: (performance.now() - t0) / 1000 } satisfies LoadOutcome;
  });
}

/**
 * The score rows of a committed run as the load encodes them, without a database: Parquet read
 * back and COPY text built, nothing sent. The bench runs it beside the load to tell the client's
 * share of the time from the server's.
 */
export async function encodeCommittedRun(run: CommittedRunRef): Promise<{ rows: number; bytes: number }> {
  const { manifest, store } = run;
  const layout = tableLayout(run.scoresUri).partition(manifest.asOf, `${manifest.model.name}-${manifest.model.version}`);
  const partUris = manifest.parts.map((p) => joinUri(layout.partitionUri, p.name));
  const segments = await segmentsOfParts(store, partUris);
  let rows = 0;
  let bytes = 0;
  for await (const chunk of copyTextOfParts(store, partUris, (batch) => {
    rows += batch.numRows;
    return scoreEncoders(batch, segments);
  })) {
    bytes += chunk.length;
  }
  return { rows, bytes };
}

/** Marks a held run released, so it counts in the analyst views; false when the warehouse has it not held. */
export async function releaseWarehouseRun(conn: WarehouseConnection, runId: string): Promise<boolean> {
  const result = await conn.client.query(`UPDATE ${conn.schemaSql}.runs SET state = 'released' WHERE run_id = $1 AND state = 'held'`, [runId]);
  return (result.rowCount ?? 0) > 0;
}

/** What `churn evaluate` stores (report's evaluation, the fields the table keeps). */
export const warehouseEvaluationSchema = z
  .object({
    runId: z.string(),
    asOf: z.string(),
    evaluatedAt: z.string(),
    labels: z.object({ uri: z.string(), column: z.string() }).loose(),
    rowsScored: z.number().int(),
    rowsJoined: z.number().int(),
    metrics: z.object({ auc: z.number().nullable(), brier: z.number() }).loose(),
    trainingAuc: z.number().nullable(),
  })
  .loose();

/** Records an evaluation of a run (`evaluations`, one row per evaluation time). */
export async function storeEvaluation(conn: WarehouseConnection, model: { name: string; version: string }, evaluation: unknown): Promise<void> {
  const e = warehouseEvaluationSchema.parse(evaluation);
  await conn.client.query(
    `INSERT INTO ${conn.schemaSql}.evaluations (run_id, as_of, model_name, model_version, evaluated_at, labels, label_column, rows_scored, rows_joined, auc, brier, training_auc, evaluation)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (run_id, evaluated_at) DO UPDATE SET evaluation = EXCLUDED.evaluation`,
    [e.runId, e.asOf, model.name, model.version, e.evaluatedAt, e.labels.uri, e.labels.column, e.rowsScored, e.rowsJoined, e.metrics.auc, e.metrics.brier, e.trainingAuc, JSON.stringify(evaluation)],
  );
}

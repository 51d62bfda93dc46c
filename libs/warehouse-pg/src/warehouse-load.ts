import { DataType, TimeUnit, type RecordBatch, type Table, type Vector } from 'apache-arrow';
import { z } from 'zod';
import { readParquetFooter, readRowGroups } from '@churn/arrow-io';
import { ChurnError } from '@churn/errors';
import { joinUri, type ObjectStore } from '@churn/object-store';
import { CONTRIBUTION_COLUMN_PREFIX, isCategorical, REASON_COUNT, segmentFieldsOf, tableLayout, type CommittedRunRef, type PublishState, type RunManifest, type SegmentField } from '@churn/warehouse';
import { binaryField, boolReader, copyBinaryChunks, float4ArrayField, type BinaryField, type PgBinaryType } from './copy-binary';
import { copyIn, ident, inTransaction, type WarehouseConnection } from './warehouse-connection';
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
/** Columns of `scores` COPY loads from the same-named Parquet columns, with their types, in COPY order. */
const SCORE_COPY_COLUMNS: readonly (readonly [string, PgBinaryType])[] = [
  ['customer_id', 'text'],
  ['score', 'real'],
  ['risk_band', 'text'],
  ['explained', 'boolean'],
  ['base_value', 'real'],
  ...[...REASONS, ...REASON_TEXTS].map((r) => [r, 'text'] as const),
];
/**
 * Columns of `scores` that hold one value per run (the slice's key, the model's digest, the run
 * and its time): checked constant in the Parquet parts, then added to the slice's table as
 * column defaults after the COPY, so no row stores them (PostgreSQL keeps the value once).
 */
const RUN_CONSTANT_COLUMNS = ['as_of', 'model_name', 'model_version', 'model_digest', 'run_id', 'scored_at'] as const;
type RunConstantColumn = (typeof RUN_CONSTANT_COLUMNS)[number];
/** Of those, the partition keys: checked by constraints that let ATTACH skip its scan. */
const SLICE_KEYS: readonly RunConstantColumn[] = ['as_of', 'model_name', 'model_version'];
const QUARANTINE_COPY_COLUMNS: readonly (readonly [string, PgBinaryType])[] = [
  ['as_of', 'date'],
  ['model_name', 'text'],
  ['model_version', 'text'],
  ['run_id', 'text'],
  ['customer_id', 'text'],
  ['source_file', 'text'],
  ['row_index', 'integer'],
  ['reason_code', 'text'],
  ['reason_detail', 'text'],
];
const RESERVED = new Set<string>([...SCORE_COPY_COLUMNS.map(([name]) => name), ...RUN_CONSTANT_COLUMNS, 'contributions']);

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

/** A score or quarantine part read back: its rows, and for a score part its run constants. */
interface PartRows {
  table: Table;
  /** The part's per-run columns from its first row (as text), for a score part. */
  constants?: Partial<RunConstants>;
}

/**
 * Reads a committed part. For a score part the per-run columns are not decoded with the rows:
 * the writer writes each as one value per part (a single-entry dictionary, or a plain page of
 * one repeated value that the reader would expand into every row, half of the decode time:
 * docs/decisions.md), so they are read from the part's first row only, checked against the
 * manifest, and stored once in the slice's table.
 */
async function readPart(store: ObjectStore, uri: string, kind: 'score' | 'quarantine'): Promise<PartRows> {
  const head = await store.head(uri);
  if (!head) throw new ChurnError('INPUT_NOT_FOUND', `${uri} is listed by its manifest but missing; the partition is damaged: score it again`, { details: { uri } });
  const footer = await readParquetFooter({ store, uri, size: head.size });
  const rowGroups = footer.rowGroupRows.map((_, i) => i);
  const names = footer.schema.fields.map((f) => f.name);
  if (kind === 'quarantine') return { table: await readRowGroups({ store, uri, size: head.size, rowGroups, columns: names }) };
  const isConstant = (name: string) => (RUN_CONSTANT_COLUMNS as readonly string[]).includes(name);
  const missing = RUN_CONSTANT_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length > 0) throw new ChurnError('CORRUPT_INPUT', `score part ${uri} has no column ${missing.join(', ')}; the partition is damaged: score it again`, { details: { uri, columns: missing } });
  const table = await readRowGroups({ store, uri, size: head.size, rowGroups, columns: names.filter((n) => !isConstant(n)) });
  if (table.numRows === 0) return { table };
  const first = await readRowGroups({ store, uri, size: head.size, rowGroups, columns: [...RUN_CONSTANT_COLUMNS], limit: 1 });
  const constants: Partial<RunConstants> = {};
  for (const name of RUN_CONSTANT_COLUMNS) constants[name] = firstValueText(first.getChild(name)!, name);
  return { table, constants };
}

/** Row 0 of a column as text: a date as YYYY-MM-DD, a time as ISO 8601 to the microsecond, null as undefined. */
function firstValueText(vector: Vector, column: string): string | undefined {
  const data = vector.data[0];
  if (!data || vector.length === 0 || !vector.isValid(0)) return undefined;
  if (DataType.isTimestamp(data.type) && data.offset === 0) {
    const raw = BigInt((data.values as BigInt64Array)[0]!);
    const micros = (raw * BigInt(MICROS_PER_UNIT[data.type.unit] ?? 1)) / BigInt(UNITS_PER_MICRO[data.type.unit] ?? 1);
    const iso = new Date(Number(micros / 1000n)).toISOString();
    return `${iso.slice(0, -1)}${String(((micros % 1000n) + 1000n) % 1000n).padStart(3, '0')}Z`;
  }
  const v: unknown = vector.get(0);
  if (v instanceof Date || (column === 'as_of' && typeof v === 'number')) return new Date(v).toISOString().slice(0, 10);
  return String(v);
}

const MICROS_PER_UNIT: Record<number, number> = { [TimeUnit.SECOND]: 1_000_000, [TimeUnit.MILLISECOND]: 1000, [TimeUnit.MICROSECOND]: 1, [TimeUnit.NANOSECOND]: 1 };
const UNITS_PER_MICRO: Record<number, number> = { [TimeUnit.SECOND]: 1, [TimeUnit.MILLISECOND]: 1, [TimeUnit.MICROSECOND]: 1, [TimeUnit.NANOSECOND]: 1000 };

/** The parts read back in order, the next one read while this one is used. */
async function* readParts(store: ObjectStore, uris: readonly string[], kind: 'score' | 'quarantine'): AsyncGenerator<PartRows & { uri: string }> {
  if (uris.length === 0) return;
  let next = readPart(store, uris[0]!, kind);
  for (let p = 0; p < uris.length; p++) {
    const part = await next;
    if (p + 1 < uris.length) {
      next = readPart(store, uris[p + 1]!, kind);
      next.catch(() => undefined);
    }
    yield { ...part, uri: uris[p]! };
  }
}

/** The binary COPY data of Parquet parts, each batch's fields from `fieldsOf`. */
async function* copyDataOfParts(
  store: ObjectStore,
  uris: readonly string[],
  kind: 'score' | 'quarantine',
  fieldsOf: (batch: RecordBatch, part: PartRows & { uri: string }) => BinaryField[],
): AsyncGenerator<Buffer> {
  async function* rows() {
    for await (const part of readParts(store, uris, kind)) for (const batch of part.table.batches) yield { rows: batch.numRows, fields: fieldsOf(batch, part) };
  }
  yield* copyBinaryChunks(rows());
}

/** Streams the rows of Parquet parts into a COPY ... FROM STDIN (FORMAT binary). */
async function copyParts(
  conn: WarehouseConnection,
  sql: string,
  store: ObjectStore,
  uris: readonly string[],
  kind: 'score' | 'quarantine',
  fieldsOf: (batch: RecordBatch, part: PartRows & { uri: string }) => BinaryField[],
): Promise<number> {
  if (uris.length === 0) return 0;
  return copyIn(conn, sql, copyDataOfParts(store, uris, kind, fieldsOf));
}

/** What a run's score parts carry beyond the fixed columns (read from the first part's footer). */
interface PartShape {
  segments: SegmentField[];
  /** The features (or groups) of the contribution columns, in their order. */
  features: string[];
}

async function shapeOfParts(store: ObjectStore, partUris: readonly string[]): Promise<PartShape> {
  const first = partUris[0];
  if (!first) return { segments: [], features: [] };
  const schema = (await readParquetFooter({ store, uri: first, size: (await store.head(first))?.size ?? 0 })).schema;
  return { segments: segmentFieldsOf(schema), features: schema.fields.filter((f) => f.name.startsWith(CONTRIBUTION_COLUMN_PREFIX)).map((f) => f.name.slice(CONTRIBUTION_COLUMN_PREFIX.length)) };
}

function columnOf(batch: RecordBatch, name: string, part: string): Vector {
  const v = batch.getChild(name);
  if (!v) throw new ChurnError('CORRUPT_INPUT', `a ${part} part has no column ${name}`, { details: { column: name } });
  return v;
}

/** The COPY fields of a batch of score rows: the copied columns, contributions, segments. */
function scoreFields(batch: RecordBatch, shape: PartShape): BinaryField[] {
  const fields = SCORE_COPY_COLUMNS.map(([name, type]) => binaryField(columnOf(batch, name, 'score'), name, type));
  const contributions = shape.features.map((f) => columnOf(batch, `${CONTRIBUTION_COLUMN_PREFIX}${f}`, 'score'));
  fields.push(float4ArrayField(contributions, boolReader(columnOf(batch, 'explained', 'score'), 'explained')));
  for (const s of shape.segments) fields.push(binaryField(columnOf(batch, s.name, 'score'), s.name, SEGMENT_SQL_TYPES[s.type]));
  return fields;
}

/** The values of a run's per-run columns, as text (a date YYYY-MM-DD, a time ISO 8601). */
type RunConstants = Record<RunConstantColumn, string>;

/** The per-run values the manifest states: all but the run time, which only the parts hold. */
function manifestConstants(manifest: RunManifest): Omit<RunConstants, 'scored_at'> {
  return { as_of: manifest.asOf, model_name: manifest.model.name, model_version: manifest.model.version, model_digest: manifest.model.digest, run_id: manifest.runId };
}

/**
 * The COPY fields of a run's score batches, checking each part's per-run columns on its first
 * batch; `constants` gives the values found (undefined before a part with rows).
 */
function scoreCopySource(manifest: RunManifest, shape: PartShape): { fieldsOf: (batch: RecordBatch, part: PartRows & { uri: string }) => BinaryField[]; constants: () => RunConstants | undefined } {
  let constants: RunConstants | undefined;
  let checked = '';
  return {
    fieldsOf: (batch, part) => {
      if (checked !== part.uri) {
        constants = runConstantsOf(part, manifest, constants);
        checked = part.uri;
      }
      return scoreFields(batch, shape);
    },
    constants: () => constants,
  };
}

/**
 * Checks that a score part holds the run's values in its per-run columns (what is loaded must be
 * what was committed: the slice's table stores them once) and returns them; `known` carries the
 * values of the run's earlier parts (the run time is the same in every part).
 */
function runConstantsOf(part: PartRows & { uri: string }, manifest: RunManifest, known: RunConstants | undefined): RunConstants {
  const expected: Partial<RunConstants> = { ...manifestConstants(manifest), scored_at: known?.scored_at };
  const found = {} as RunConstants;
  for (const name of RUN_CONSTANT_COLUMNS) {
    const value = part.constants?.[name];
    const want = expected[name];
    if (value === undefined || (want !== undefined && value !== want)) {
      throw new ChurnError('CORRUPT_INPUT', `score column ${name} of run ${manifest.runId} holds ${value ?? 'null'} in ${part.uri} where ${want === undefined ? 'the run has one value' : `the run's manifest says ${want}`}; nothing was loaded: the parts changed since the commit, score the date again`, {
        details: { column: name, runId: manifest.runId, uri: part.uri, ...(value === undefined ? {} : { value }) },
      });
    }
    found[name] = value;
  }
  return found;
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

/** A column of `scores` as the catalog has it, ready for a CREATE TABLE of a leaf like it. */
interface ScoresColumn {
  name: string;
  /** Type, collation and NOT NULL as SQL. */
  definition: string;
}

async function scoresColumns(conn: WarehouseConnection): Promise<ScoresColumn[]> {
  const rows = await conn.client.query<{ name: string; type: string; collation: string | null; not_null: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
         THEN (SELECT quote_ident(n.nspname) || '.' || quote_ident(c.collname) FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE c.oid = a.attcollation) END AS collation
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [`${conn.schemaSql}.scores`],
  );
  return rows.rows.map((r) => ({ name: r.name, definition: `${r.type}${r.collation ? ` COLLATE ${r.collation}` : ''}${r.not_null ? ' NOT NULL' : ''}` }));
}

/** The slice's parent partition and leaf name (scores_slice creates the parents when missing). */
async function sliceTables(conn: WarehouseConnection, slice: readonly string[]): Promise<{ parent: string; leaf: string }> {
  const row = (await conn.client.query<{ parent: string; leaf: string }>(`SELECT parent, leaf FROM ${conn.schemaSql}.scores_slice($1, $2, $3)`, [...slice])).rows[0];
  if (!row) throw new ChurnError('INTERNAL', `scores_slice returned nothing for ${slice.join(' ')}`);
  return row;
}

/**
 * Builds the run's rows as a table of their own and swaps it in as the slice's leaf partition:
 * COPY (binary, FREEZE: the table is new in this transaction) into a table without indexes,
 * the run's constant columns added as defaults (no row stores them), the primary key built by
 * one sort, then, under an exclusive lock on the model's partition taken only now, the old leaf
 * dropped and the new one attached (its constraints prove the partition bound, so ATTACH scans
 * nothing). Returns the rows copied.
 */
async function loadSliceTable(conn: WarehouseConnection, run: CommittedRunRef, partUris: readonly string[], shape: PartShape, tables: { parent: string; leaf: string }): Promise<number> {
  const { manifest, store } = run;
  const s = conn.schemaSql;
  const q = (v: string) => conn.client.escapeLiteral(v);
  const staging = `${tables.leaf}_load`;
  const columns = await scoresColumns(conn);
  const isConstant = (name: string) => (RUN_CONSTANT_COLUMNS as readonly string[]).includes(name);
  await conn.client.query(`CREATE TABLE ${s}.${ident(staging)} (${columns.filter((c) => !isConstant(c.name)).map((c) => `${ident(c.name)} ${c.definition}`).join(', ')})`);
  const copied = [...SCORE_COPY_COLUMNS.map(([name]) => name), 'contributions', ...shape.segments.map((x) => x.name)].map(ident).join(', ');
  const source = scoreCopySource(manifest, shape);
  const rows = await copyParts(conn, `COPY ${s}.${ident(staging)} (${copied}) FROM STDIN WITH (FORMAT binary, FREEZE)`, store, partUris, 'score', source.fieldsOf);
  if (rows !== manifest.rowsScored) {
    throw new ChurnError('WAREHOUSE_UNAVAILABLE', `the load of run ${manifest.runId} copied ${rows} score rows but the run committed ${manifest.rowsScored}; nothing was loaded: the parts changed since the commit`, {
      details: { runId: manifest.runId, rows, rowsScored: manifest.rowsScored },
    });
  }
  // No part had rows: the slice is empty, and the commit time stands in for the run time.
  const values = source.constants() ?? { ...manifestConstants(manifest), scored_at: manifest.committedAt };
  const definitionOf = new Map(columns.map((c) => [c.name, c.definition]));
  await conn.client.query(
    `ALTER TABLE ${s}.${ident(staging)} ${RUN_CONSTANT_COLUMNS.map((name) => {
      const literal = q(values[name]);
      return `ADD COLUMN ${ident(name)} ${definitionOf.get(name) ?? 'text'} DEFAULT ${literal}${SLICE_KEYS.includes(name) ? ` CHECK (${ident(name)} = ${literal})` : ''}`;
    }).join(', ')}`,
  );
  const key = (await conn.client.query<{ columns: string[] }>(
    `SELECT array_agg(a.attname::text ORDER BY k.n) AS columns FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(attnum, n)
     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum WHERE c.conrelid = $1::regclass AND c.contype = 'p'`,
    [`${s}.scores`],
  )).rows[0]?.columns ?? [];
  await conn.client.query(`ALTER TABLE ${s}.${ident(staging)} ADD CONSTRAINT ${ident(`${staging}_pkey`)} PRIMARY KEY (${key.map(ident).join(', ')})`);
  // The swap: readers of the model's partition wait from here to the commit, a moment.
  await conn.client.query(`LOCK TABLE ${s}.${ident(tables.parent)} IN ACCESS EXCLUSIVE MODE`);
  await conn.client.query(`DROP TABLE IF EXISTS ${s}.${ident(tables.leaf)}`);
  await conn.client.query(`ALTER TABLE ${s}.${ident(staging)} RENAME TO ${ident(tables.leaf)}`);
  await conn.client.query(`ALTER INDEX ${s}.${ident(`${staging}_pkey`)} RENAME TO ${ident(`${tables.leaf}_pkey`)}`);
  await conn.client.query(`ALTER TABLE ${s}.${ident(tables.parent)} ATTACH PARTITION ${s}.${ident(tables.leaf)} FOR VALUES IN (${q(manifest.model.version)})`);
  return rows;
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
  const shape = await shapeOfParts(store, partUris);
  // Before the transaction: creating a missing partition locks its parent only for an instant.
  const tables = await sliceTables(conn, slice);
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
    await ensureSegments(conn, shape.segments);
    const rows = await loadSliceTable(conn, run, partUris, shape, tables);
    await conn.client.query(`DELETE FROM ${s}.quarantine WHERE as_of = $1 AND model_name = $2 AND model_version = $3`, slice);
    const quarantineRows = await copyParts(conn, `COPY ${s}.quarantine (${QUARANTINE_COPY_COLUMNS.map(([name]) => name).join(', ')}) FROM STDIN WITH (FORMAT binary)`, store, quarantineUris, 'quarantine', (batch) =>
      QUARANTINE_COPY_COLUMNS.map(([name, type]) => binaryField(columnOf(batch, name, 'quarantine'), name, type)),
    );
    await conn.client.query(`UPDATE ${s}.runs SET state = 'replaced' WHERE as_of = $1 AND model_name = $2 AND model_version = $3 AND run_id <> $4 AND state <> 'replaced'`, [...slice, manifest.runId]);
    const seconds = Math.max(0, (Date.parse(manifest.committedAt) - Date.parse(manifest.startedAt)) / 1000);
    const driftStatus = driftRowsSchema.safeParse(manifest.drift).data?.status ?? null;
    const values = [
      manifest.runId, manifest.attempt, manifest.asOf, manifest.model.name, manifest.model.version, manifest.model.digest, manifest.input.partition, run.scoresUri, runState,
      manifest.rowsRead, manifest.rowsScored, manifest.rowsQuarantined, manifest.rowsIneligible, manifest.rowsExplained,
      manifest.startedAt, manifest.committedAt, seconds, manifest.cpuSeconds, manifest.device, driftStatus,
      JSON.stringify(manifest.settings), JSON.stringify(manifest.execution), JSON.stringify(manifest), shape.features,
    ];
    const names = ['run_id', 'attempt', 'as_of', 'model_name', 'model_version', 'model_digest', 'dataset', 'output', 'state', 'rows_read', 'rows_scored', 'rows_quarantined', 'rows_ineligible', 'rows_explained', 'started_at', 'committed_at', 'seconds', 'cpu_seconds', 'device', 'drift_status', 'settings', 'execution', 'manifest', 'contribution_features'];
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
 * back and binary COPY data built, nothing sent. The bench runs it beside the load to tell the
 * client's share of the time from the server's.
 */
export async function encodeCommittedRun(run: CommittedRunRef): Promise<{ rows: number; bytes: number }> {
  const { manifest, store } = run;
  const layout = tableLayout(run.scoresUri).partition(manifest.asOf, `${manifest.model.name}-${manifest.model.version}`);
  const partUris = manifest.parts.map((p) => joinUri(layout.partitionUri, p.name));
  const shape = await shapeOfParts(store, partUris);
  let rows = 0;
  let bytes = 0;
  const source = scoreCopySource(manifest, shape);
  for await (const chunk of copyDataOfParts(store, partUris, 'score', (batch, part) => {
    rows += batch.numRows;
    return source.fieldsOf(batch, part);
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

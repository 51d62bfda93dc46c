import { Field, RecordBatch, Schema, Struct, Table, makeData, type Data } from 'apache-arrow';
import { ChurnError } from '@churn/errors';
import {
  boolData,
  customerIdData,
  float64Data,
  int32Data,
  utf8FromCodes,
  utf8FromInts,
} from './arrow-column-builders';
import { generateCustomers, type CustomerColumns } from './customer-generator';
import { NEW_PLAN } from './drift-scenarios';
import { WRONG_TYPE_COLUMN, emptyFaultCounts, injectRowFaults, wrongTypeFileIndex, type FaultKind } from './fault-injector';
import { Prng, deriveSeed } from './prng';
import { fileRowRange, resolveSynthOptions, type SynthOptions } from './synth-options';
import { INT_COLUMNS, PLANS, STATUSES, SYNTH_COLUMNS, UNKNOWN_PLANS, type IntColumn } from './synth-schema';

/** Independent random streams of one file: changing one never shifts the others. */
const STREAM = { rows: 1, labels: 2, faults: 3, drift: 4 } as const;

// Codes index this list: known plans, fault values, then a drift scenario's new plan.
const PLAN_VALUES: readonly string[] = [...PLANS, ...UNKNOWN_PLANS, NEW_PLAN];
const INT_COLUMN_SET: ReadonlySet<string> = new Set(INT_COLUMNS);

/** A generated file: its table and the faults injected into it. */
export interface SynthFile {
  table: Table;
  rows: number;
  faults: Record<FaultKind, number>;
}

function columnData(columns: CustomerColumns, name: string, wrongType: boolean): Data {
  switch (name) {
    case 'customer_id':
      return customerIdData(columns.idNumbers);
    case 'status':
      return utf8FromCodes(columns.status, STATUSES, columns.valid.status);
    case 'plan':
      return utf8FromCodes(columns.plan, PLAN_VALUES, columns.valid.plan);
    case 'mrr':
      return float64Data(columns.mrr);
    case 'churned_within_30d':
      return boolData(columns.label);
  }
  if (!INT_COLUMN_SET.has(name)) throw new Error(`no generator for column ${name}`);
  const column = name as IntColumn;
  if (wrongType && column === WRONG_TYPE_COLUMN) return utf8FromInts(columns.ints[column], columns.valid[column]);
  return int32Data(columns.ints[column], columns.valid[column]);
}

/** Assembles the Arrow table; a column is declared nullable exactly when it carries validity. */
function toTable(columns: CustomerColumns, wrongType: boolean): Table {
  const children = SYNTH_COLUMNS.map((name) => columnData(columns, name, wrongType));
  const fields = SYNTH_COLUMNS.map((name, k) => {
    const nullable = (columns.valid as Record<string, Uint8Array | undefined>)[name] !== undefined;
    return new Field(name, children[k]!.type, nullable);
  });
  const schema = new Schema(fields);
  const struct = makeData({ type: new Struct(fields), length: columns.rows, nullCount: 0, children });
  return new Table(schema, new RecordBatch(schema, struct));
}

/** Generates one file's customers and faults; see synthFileTable. */
export function synthFile(options: SynthOptions, fileIndex: number): SynthFile {
  const resolved = resolveSynthOptions(options);
  const { customers, files, seed, dirty, rowGroupRows, drift } = resolved;
  if (!Number.isInteger(fileIndex) || fileIndex < 0 || fileIndex >= files) {
    throw new ChurnError('INVALID_ARGUMENT', `fileIndex must be an integer from 0 to ${files - 1}, got ${String(fileIndex)}`, {
      details: { fileIndex, files },
    });
  }
  const { start, end } = fileRowRange(customers, files, fileIndex);
  const rows = end - start;
  const columns = generateCustomers(
    new Prng(deriveSeed(seed, fileIndex, STREAM.rows)),
    new Prng(deriveSeed(seed, fileIndex, STREAM.labels)),
    start + 1,
    rows,
    drift ? { scenario: drift, rng: new Prng(deriveSeed(seed, fileIndex, STREAM.drift)) } : undefined,
  );
  let faults = emptyFaultCounts();
  let wrongType = false;
  if (dirty > 0) {
    faults = injectRowFaults(columns, new Prng(deriveSeed(seed, fileIndex, STREAM.faults)), { rate: dirty, rowGroupRows });
    wrongType = fileIndex === wrongTypeFileIndex(files);
    if (wrongType) faults.wrong_type_column = 1;
  }
  return { table: toTable(columns, wrongType), rows, faults };
}

/**
 * Builds one file's table (pure, deterministic): customers of file `fileIndex` (0-based), drawn
 * from streams seeded by (seed, fileIndex) only, so files can be generated in any order or in
 * parallel. Throws INVALID_ARGUMENT for invalid options or file index.
 */
export function synthFileTable(options: SynthOptions, fileIndex: number): Table {
  return synthFile(options, fileIndex).table;
}


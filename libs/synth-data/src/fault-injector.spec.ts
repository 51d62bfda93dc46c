import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Utf8, type Table } from 'apache-arrow';
import { readParquetBytes } from '@churn/arrow-io';
import { LocalObjectStore } from '@churn/object-store';
import { trueChurnProbability } from './churn-probability';
import { FAULT_KINDS, NEGATIVE_FAULT_COLUMNS, NULL_FAULT_COLUMNS, WRONG_TYPE_COLUMN, wrongTypeFileIndex } from './fault-injector';
import { writeSynthDataset } from './synth-dataset-writer';
import type { SynthResult } from './synth-options';
import { synthFile } from './synth-table';
import { PLANS } from './synth-schema';

const store = new LocalObjectStore();
const DIRTY = { customers: 20_000, asOf: '2024-06-30', files: 4, dirty: 0.05, seed: 11, rowGroupRows: 2_048 };
let root: string;
let result: SynthResult;
let tables: Table[];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'synth-dirty-'));
  result = await writeSynthDataset(store, root, DIRTY);
  tables = await Promise.all(result.files.map(async (f) => readParquetBytes(await store.get(f.uri))));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The faults a validator would find in a table, counted the way the injector counts them. */
function observedFaults(table: Table): Record<string, number> {
  const n = table.numRows;
  const nulls = NULL_FAULT_COLUMNS.reduce((sum, name) => sum + table.getChild(name)!.nullCount, 0);
  const counts = NEGATIVE_FAULT_COLUMNS.map((name) => table.getChild(name)!.toArray() as Int32Array);
  let negative = 0;
  for (let i = 0; i < n; i++) if (counts.some((values) => values[i]! < 0)) negative++;
  const mrr = table.getChild('mrr')!.toArray() as Float64Array;
  const plans = [...table.getChild('plan')!] as (string | null)[];
  // Every copy of a repeated id counts: a validator quarantines them all.
  const seen = new Map<string, number>();
  for (const id of table.getChild('customer_id')!) seen.set(id as string, (seen.get(id as string) ?? 0) + 1);
  const duplicates = [...seen.values()].filter((n) => n > 1).reduce((a, n) => a + n, 0);
  return {
    null_required: nulls,
    negative_count: negative,
    non_finite_mrr: mrr.filter((m) => !Number.isFinite(m)).length,
    unknown_plan: plans.filter((p) => p !== null && !(PLANS as readonly string[]).includes(p)).length,
    duplicate_id: duplicates,
    wrong_type_column: table.getChild(WRONG_TYPE_COLUMN)!.type instanceof Utf8 ? 1 : 0,
  };
}

describe('dirty mode', () => {
  it('reports every fault kind and injects about the requested rate', () => {
    for (const file of result.files) {
      expect(Object.keys(file.faults).sort()).toEqual([...FAULT_KINDS].sort());
      const rowFaults = FAULT_KINDS.filter((k) => k !== 'wrong_type_column').reduce((s, k) => s + file.faults[k]!, 0);
      // 5% of rows draw a fault; a duplicate also turns its source row into a copy (~1.2 x 5%).
      expect(rowFaults / file.rows).toBeGreaterThan(0.05);
      expect(rowFaults / file.rows).toBeLessThan(0.07);
      for (const kind of FAULT_KINDS) if (kind !== 'wrong_type_column') expect(file.faults[kind]).toBeGreaterThan(20);
    }
  });

  it('reports exactly the faults found in the written files', () => {
    tables.forEach((table, i) => expect(observedFaults(table)).toEqual(result.files[i]!.faults));
  });

  it('writes tenure_days as Utf8 strings in exactly one file, the last', () => {
    const mistyped = tables.map((t) => t.getChild(WRONG_TYPE_COLUMN)!.type instanceof Utf8);
    expect(mistyped).toEqual([false, false, false, true]);
    expect(wrongTypeFileIndex(DIRTY.files)).toBe(3);
    expect(String(tables[0]!.getChild(WRONG_TYPE_COLUMN)!.type)).toBe('Int32');
    const text = tables[3]!.getChild(WRONG_TYPE_COLUMN)!;
    const firstValid = [...text].find((v) => v !== null) as string;
    expect(firstValid).toMatch(/^\d+$/);
  });

  it('declares the null-fault columns nullable in every dirty file', () => {
    for (const table of tables) {
      const nullable = table.schema.fields.filter((f) => f.nullable).map((f) => f.name).sort();
      expect(nullable).toEqual([...NULL_FAULT_COLUMNS, 'days_since_last_login', 'nps'].sort());
    }
  });

  it('writes non-finite mrr of all three kinds and near-miss plan names', () => {
    const mrr = tables.flatMap((t) => [...(t.getChild('mrr')!.toArray() as Float64Array)]);
    expect(mrr.some(Number.isNaN)).toBe(true);
    expect(mrr.includes(Infinity)).toBe(true);
    expect(mrr.includes(-Infinity)).toBe(true);
    const plans = new Set(tables.flatMap((t) => [...t.getChild('plan')!] as (string | null)[]));
    expect(plans.has('PRO ')).toBe(true);
    expect(plans.has('platinum')).toBe(true);
  });

  it('duplicates ids only within the same file', () => {
    const perFile = tables.map((t) => new Set([...t.getChild('customer_id')!] as string[]));
    const all = new Set(perFile.flatMap((ids) => [...ids]));
    expect(all.size).toBe(perFile.reduce((sum, ids) => sum + ids.size, 0));
  });

  it('leaves clean rows as in the clean dataset and labels unchanged', () => {
    const clean = synthFile({ ...DIRTY, dirty: 0 }, 1).table;
    const dirty = synthFile(DIRTY, 1).table;
    expect([...dirty.getChild('churned_within_30d')!]).toEqual([...clean.getChild('churned_within_30d')!]);
    const renewal = (t: Table) => t.getChild('days_to_renewal')!.toArray() as Int32Array;
    expect(renewal(dirty)).toEqual(renewal(clean));
  });

  it('still yields a probability for every dirty row, the mistyped file included', () => {
    for (const table of tables) {
      const p = trueChurnProbability(table);
      expect(p.every((v) => v > 0 && v < 1)).toBe(true);
    }
  });

  it('injects nothing when dirty is 0', () => {
    const { faults, table } = synthFile({ ...DIRTY, dirty: 0 }, 3);
    expect(Object.values(faults).every((c) => c === 0)).toBe(true);
    expect(String(table.getChild(WRONG_TYPE_COLUMN)!.type)).toBe('Int32');
  });
});

import type { Schema } from 'apache-arrow';
import type { InputContract } from '@churn/model-bundle';
import { arrowTypeMatches, duplicateRows } from './arrow-columns';
import type { ColumnCache } from './column-cache';

/** Rows that break the input contract, each with the first reason found, plus counts by kind. */
export interface ContractIssues {
  /** Row index (within the table) -> human-readable reason naming column and value. */
  badRows: Map<number, string>;
  /** Reason kind (column and problem, without the value) -> number of rows it was found on. */
  counts: Map<string, number>;
}

/** Contract columns absent from a file's schema (checked from the footer, before any data is read). */
export function missingColumns(schema: Schema, contract: InputContract): string[] {
  const present = new Set(schema.fields.map((f) => f.name));
  return contract.columns.filter((c) => !present.has(c.name)).map((c) => c.name);
}

function formatValue(value: number): string {
  return Number.isNaN(value) ? 'NaN' : String(value);
}

/**
 * Rows whose value is not within [min, max] (NaN and nulls included). A small monomorphic loop
 * of its own, so the common all-valid column costs one comparison per row.
 */
function outOfRange(values: Float64Array, min: number, max: number): number[] {
  const rows: number[] = [];
  for (let r = 0; r < values.length; r++) {
    const v = values[r]!;
    if (!(v >= min && v <= max)) rows.push(r);
  }
  return rows;
}

/**
 * Checks every row against the contract: types, nulls, NaN/Infinity, ranges, allowed categories
 * and duplicate ids. Data problems are returned as data; only a missing column throws.
 */
export function validateContract(columns: ColumnCache, contract: InputContract): ContractIssues {
  const badRows = new Map<number, string>();
  const counts = new Map<string, number>();
  const n = columns.numRows;
  const flag = (row: number, kind: string, reason: string) => {
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    if (!badRows.has(row)) badRows.set(row, reason);
  };

  for (const spec of contract.columns) {
    const vector = columns.vector(spec.name);
    if (!arrowTypeMatches(vector.type, spec.type)) {
      const kind = `${spec.name}: has Arrow type ${String(vector.type)} where the contract expects ${spec.type}`;
      for (let r = 0; r < n; r++) flag(r, kind, kind);
      continue;
    }
    if (spec.type === 'string' && !spec.allowed) {
      // Free-text columns (ids) only need a null check: no string is decoded.
      if (!spec.nullable && vector.nullCount > 0) {
        for (let r = 0; r < n; r++) if (!vector.isValid(r)) flag(r, `${spec.name}: null in a required column`, `${spec.name}: null in a required column`);
      }
      continue;
    }
    if (spec.type === 'string') {
      const { codes, categories } = columns.categoricalColumn(spec.name);
      const allowed = spec.allowed ? new Set(spec.allowed) : undefined;
      const ok = categories.map((c) => !allowed || allowed.has(c));
      for (let r = 0; r < n; r++) {
        const code = codes[r]!;
        if (code < 0) {
          if (!spec.nullable) flag(r, `${spec.name}: null in a required column`, `${spec.name}: null in a required column`);
        } else if (!ok[code]) {
          const value = categories[code]!;
          flag(r, `${spec.name}: unknown category`, `${spec.name}: unknown category ${JSON.stringify(value)} (allowed: ${spec.allowed!.join(', ')})`);
        }
      }
      continue;
    }
    const { values, isNull } = columns.numericColumn(spec.name);
    // Finite defaults, so the fast path below also refuses ±Infinity when no bound is declared.
    const min = spec.min ?? -Number.MAX_VALUE;
    const max = spec.max ?? Number.MAX_VALUE;
    for (const r of outOfRange(values, min, max)) {
      const v = values[r]!;
      if (isNull[r]) {
        if (!spec.nullable) flag(r, `${spec.name}: null in a required column`, `${spec.name}: null in a required column`);
      } else if (Number.isNaN(v)) {
        flag(r, `${spec.name}: NaN`, `${spec.name}: NaN is not a valid value`);
      } else if (!Number.isFinite(v)) {
        flag(r, `${spec.name}: infinite value`, `${spec.name}: ${formatValue(v)} is not a valid value`);
      } else if (v < min) {
        flag(r, `${spec.name}: below minimum ${min}`, `${spec.name}: ${formatValue(v)} is below the minimum ${min}`);
      } else {
        flag(r, `${spec.name}: above maximum ${max}`, `${spec.name}: ${formatValue(v)} is above the maximum ${max}`);
      }
    }
  }

  const idSpec = contract.columns.find((c) => c.name === contract.idColumn);
  if (contract.rejectDuplicateIds && idSpec && arrowTypeMatches(columns.vector(idSpec.name).type, idSpec.type)) {
    const kind = `${contract.idColumn}: duplicate id`;
    const ids = columns.vector(contract.idColumn);
    // Strings are decoded only for the (rare) duplicates, to name them.
    const reason = (row: number) => `${kind} ${JSON.stringify(String(ids.get(row)))} (an earlier row of this shard has it)`;
    const duplicates = duplicateRows(ids);
    if (duplicates) {
      for (const row of duplicates.keys()) flag(row, kind, reason(row));
    } else {
      const { codes } = columns.categoricalColumn(contract.idColumn);
      const seen = new Set<number>();
      for (let r = 0; r < n; r++) {
        const code = codes[r]!;
        if (code < 0) continue;
        if (seen.has(code)) flag(r, kind, reason(r));
        else seen.add(code);
      }
    }
  }
  return { badRows, counts };
}

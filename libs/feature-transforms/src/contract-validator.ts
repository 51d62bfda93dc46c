import type { Schema } from 'apache-arrow';
import type { InputContract } from '@churn/model-bundle';
import { arrowTypeMatches, duplicateRows } from './arrow-columns';
import type { ColumnCache } from './column-cache';
import type { QuarantineReason, RowIssue } from './quarantine-reasons';

/** Rows that break the input contract, each with its primary issue, plus counts. */
export interface ContractIssues {
  /** Row index (within the table) -> its primary issue: the first found, in contract order. */
  badRows: Map<number, RowIssue>;
  /** Primary code -> rows; adds up to `badRows.size`. */
  counts: Map<QuarantineReason, number>;
  /** `column: code` -> rows, primary issues only: the top reasons named in messages. */
  byColumn: Map<string, number>;
  /** `column: code` -> the detail of its first row, to show what the problem looks like. */
  examples: Map<string, string>;
}

export interface ValidateOptions {
  /** Row number, within the source file, of the table's first row (for duplicate details). */
  rowOffset?: number;
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

/** Rows whose category is not allowed, or null where nulls are not: like outOfRange, a loop of its own. */
function badCategoryRows(codes: Int32Array, ok: Uint8Array, nullable: boolean): number[] {
  const rows: number[] = [];
  for (let r = 0; r < codes.length; r++) {
    const code = codes[r]!;
    if (code < 0 ? !nullable : ok[code] === 0) rows.push(r);
  }
  return rows;
}

/** Collects issues, keeping each row's first one. */
class IssueCollector {
  readonly badRows = new Map<number, RowIssue>();
  readonly counts = new Map<QuarantineReason, number>();
  readonly byColumn = new Map<string, number>();
  readonly examples = new Map<string, string>();

  flag(row: number, code: QuarantineReason, column: string, detail: string): void {
    if (this.badRows.has(row)) return;
    this.badRows.set(row, { code, column, detail });
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
    const key = `${column}: ${code}`;
    this.byColumn.set(key, (this.byColumn.get(key) ?? 0) + 1);
    if (!this.examples.has(key)) this.examples.set(key, detail);
  }

  issues(): ContractIssues {
    return { badRows: this.badRows, counts: this.counts, byColumn: this.byColumn, examples: this.examples };
  }
}

/**
 * Ids that appear on more than one contract-valid row: every copy is flagged `duplicate_id`
 * (none of them is trusted to be the customer's real row). Rows already bad for another reason
 * do not count as copies.
 */
function flagDuplicates(columns: ColumnCache, contract: InputContract, out: IssueCollector, rowOffset: number): void {
  const ids = columns.vector(contract.idColumn);
  const groups = new Map<number, number[]>();
  const duplicates = duplicateRows(ids);
  if (duplicates) {
    for (const [row, first] of duplicates) {
      let group = groups.get(first);
      if (!group) groups.set(first, (group = [first]));
      group.push(row);
    }
  } else {
    const { codes } = columns.categoricalColumn(contract.idColumn);
    const firstOf = new Map<number, number>();
    for (let r = 0; r < codes.length; r++) {
      const code = codes[r]!;
      if (code < 0) continue;
      const first = firstOf.get(code);
      if (first === undefined) firstOf.set(code, r);
      else {
        let group = groups.get(first);
        if (!group) groups.set(first, (group = [first]));
        group.push(r);
      }
    }
  }
  for (const group of groups.values()) {
    const copies = group.filter((r) => !out.badRows.has(r));
    if (copies.length < 2) continue;
    const id = JSON.stringify(String(ids.get(copies[0]!)));
    const detail = `${contract.idColumn} ${id} appears on ${copies.length} rows of this file (rows ${copies.map((r) => r + rowOffset).join(', ')}); every copy is quarantined`;
    for (const r of copies) out.flag(r, 'duplicate_id', contract.idColumn, detail);
  }
}

/**
 * Checks every row against the contract: types, nulls, NaN/Infinity, ranges, allowed categories
 * and duplicate ids. Data problems are returned as data, one primary code per row; only a
 * missing column throws.
 */
export function validateContract(columns: ColumnCache, contract: InputContract, options: ValidateOptions = {}): ContractIssues {
  const out = new IssueCollector();
  const n = columns.numRows;

  for (const spec of contract.columns) {
    const vector = columns.vector(spec.name);
    if (!arrowTypeMatches(vector.type, spec.type)) {
      const detail = `${spec.name}: has Arrow type ${String(vector.type)} where the contract expects ${spec.type}`;
      for (let r = 0; r < n; r++) out.flag(r, 'wrong_type', spec.name, detail);
      continue;
    }
    const nullDetail = `${spec.name}: null in a required column`;
    if (spec.type === 'string' && !spec.allowed) {
      // Free-text columns (ids) only need a null check: no string is decoded.
      if (!spec.nullable && vector.nullCount > 0) {
        const isNull = columns.isNull(spec.name);
        for (let r = 0; r < n; r++) if (isNull[r]) out.flag(r, 'null_required', spec.name, nullDetail);
      }
      continue;
    }
    if (spec.type === 'string') {
      const { codes, categories } = columns.categoricalColumn(spec.name);
      const allowed = spec.allowed ? new Set(spec.allowed) : undefined;
      const ok = Uint8Array.from(categories, (c) => (!allowed || allowed.has(c) ? 1 : 0));
      for (const r of badCategoryRows(codes, ok, spec.nullable === true)) {
        const code = codes[r]!;
        if (code < 0) out.flag(r, 'null_required', spec.name, nullDetail);
        else out.flag(r, 'unknown_category', spec.name, `${spec.name}: unknown category ${JSON.stringify(categories[code]!)} (allowed: ${spec.allowed!.join(', ')})`);
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
        if (!spec.nullable) out.flag(r, 'null_required', spec.name, nullDetail);
      } else if (!Number.isFinite(v)) {
        out.flag(r, 'not_finite', spec.name, `${spec.name}: ${formatValue(v)} is not a valid value`);
      } else if (v < min) {
        out.flag(r, 'below_min', spec.name, `${spec.name}: ${formatValue(v)} is below the minimum ${min}`);
      } else {
        out.flag(r, 'above_max', spec.name, `${spec.name}: ${formatValue(v)} is above the maximum ${max}`);
      }
    }
  }

  const idSpec = contract.columns.find((c) => c.name === contract.idColumn);
  if (contract.rejectDuplicateIds && idSpec && arrowTypeMatches(columns.vector(idSpec.name).type, idSpec.type)) {
    flagDuplicates(columns, contract, out, options.rowOffset ?? 0);
  }
  return out.issues();
}

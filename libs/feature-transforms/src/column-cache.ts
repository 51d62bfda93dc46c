import type { Table, Utf8, Vector } from 'apache-arrow';
import { ChurnError } from '@churn/errors';
import { categoricalColumn, nullMask, numericColumn, takeStrings, type CategoricalColumn, type NumericColumn } from './arrow-columns';

/**
 * Decoded views of a table's columns, built once per shard and shared by the contract check,
 * the eligibility rule and the feature kernels.
 */
export class ColumnCache {
  private readonly numeric = new Map<string, NumericColumn>();
  private readonly categorical = new Map<string, CategoricalColumn>();
  private readonly nulls = new Map<string, Uint8Array>();

  constructor(readonly table: Table) {}

  get numRows(): number {
    return this.table.numRows;
  }

  vector(name: string): Vector {
    const vector = this.table.getChild(name);
    if (!vector) {
      throw new ChurnError('CONTRACT_VIOLATION', `required column "${name}" is missing; add it to the export or remove it from the bundle's input contract`, {
        details: { column: name },
      });
    }
    return vector;
  }

  numericColumn(name: string): NumericColumn {
    let column = this.numeric.get(name);
    if (!column) {
      column = numericColumn(this.vector(name));
      this.numeric.set(name, column);
    }
    return column;
  }

  /** Per row 1 where the column is null: the numeric view's mask when there is one, else the bitmaps. */
  isNull(name: string): Uint8Array {
    const numeric = this.numeric.get(name);
    if (numeric) return numeric.isNull;
    let mask = this.nulls.get(name);
    if (!mask) {
      mask = nullMask(this.vector(name)).isNull;
      this.nulls.set(name, mask);
    }
    return mask;
  }

  /** The values of `rows` of a string column as a new Utf8 vector (ids for output tables). */
  takeStrings(name: string, rows: ArrayLike<number>): Vector<Utf8> {
    return takeStrings(this.vector(name), rows, this.categorical.get(name));
  }

  categoricalColumn(name: string): CategoricalColumn {
    let column = this.categorical.get(name);
    if (!column) {
      column = categoricalColumn(this.vector(name));
      this.categorical.set(name, column);
    }
    return column;
  }
}

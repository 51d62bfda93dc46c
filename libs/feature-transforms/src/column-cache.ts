import type { Table, Utf8, Vector } from 'apache-arrow';
import { ChurnError } from '@churn/errors';
import { categoricalColumn, numericColumn, takeStrings, type CategoricalColumn, type NumericColumn } from './arrow-columns';

/**
 * Decoded views of a table's columns, built once per shard and shared by the contract check,
 * the eligibility rule and the feature kernels.
 */
export class ColumnCache {
  private readonly numeric = new Map<string, NumericColumn>();
  private readonly categorical = new Map<string, CategoricalColumn>();

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

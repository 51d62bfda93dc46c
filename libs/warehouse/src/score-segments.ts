import { DataType, type Schema } from 'apache-arrow';
import { CONTRIBUTION_COLUMN_PREFIX, SCORE_COLUMNS } from './score-table-writer';

/** How a segment column's values are typed, in Parquet and in the warehouse. */
export const SEGMENT_TYPES = ['text', 'double', 'bigint', 'boolean'] as const;
export type SegmentType = (typeof SEGMENT_TYPES)[number];

export interface SegmentField {
  name: string;
  type: SegmentType;
}

const isExplanationColumn = (name: string) => name === 'explained' || name === 'base_value' || name.startsWith(CONTRIBUTION_COLUMN_PREFIX) || name.startsWith('reason_');

/** True for a score-table column that is a segment (neither a contract nor an explanation column). */
export function isSegmentColumn(name: string): boolean {
  return !(SCORE_COLUMNS as readonly string[]).includes(name) && !isExplanationColumn(name);
}

/**
 * The segment columns of a score part (the bundle's pass-through columns: every column that is
 * neither a contract column nor an explanation column), with their types.
 */
export function segmentFieldsOf(schema: Schema): SegmentField[] {
  return schema.fields
    .filter((f) => isSegmentColumn(f.name))
    .map((f) => {
      const t = DataType.isDictionary(f.type) ? f.type.dictionary : f.type;
      const type: SegmentType = DataType.isFloat(t) ? 'double' : DataType.isInt(t) ? 'bigint' : DataType.isBool(t) ? 'boolean' : 'text';
      return { name: f.name, type };
    });
}

/** Segments reason_summary groups by: text and boolean ones (a number per customer is no group). */
export function isCategorical(field: SegmentField): boolean {
  return field.type === 'text' || field.type === 'boolean';
}

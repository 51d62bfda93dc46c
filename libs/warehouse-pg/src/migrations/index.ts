// The ambient declaration of *.sql text modules must reach every project that type-checks this lib.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../sql-text.d.ts" />
import initial from './0001-initial.sql';
import slicePartitions from './0002-slice-partitions.sql';

/** One versioned migration: applied once, in order, and recorded with its checksum. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in order. A migration once released is never edited: add the next one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'slice-partitions', sql: slicePartitions },
];

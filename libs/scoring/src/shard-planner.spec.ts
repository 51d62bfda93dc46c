import { Schema } from 'apache-arrow';
import type { ParquetFooter } from '@churn/arrow-io';
import { planShards, type ShardSpec } from './shard-planner';

function footer(name: string, rowGroupRows: number[]): ParquetFooter {
  return {
    uri: `file:///data/customers/as_of=2024-06-01/${name}`,
    size: 1000 + rowGroupRows.length,
    numRows: rowGroupRows.reduce((a, b) => a + b, 0),
    rowGroupRows,
    schema: new Schema([]),
  };
}

/** Compact view: [file name, row groups, firstRow, rows]. */
function brief(shards: ShardSpec[]): [string, number[], number, number][] {
  return shards.map((s) => [s.file.slice(s.file.lastIndexOf('/') + 1), s.rowGroups, s.firstRow, s.rows]);
}

describe('planShards', () => {
  it('groups contiguous row groups until a shard reaches the target', () => {
    const shards = planShards([footer('a.parquet', [40, 40, 40, 40, 40])], 100);
    expect(brief(shards)).toEqual([
      ['a.parquet', [0, 1, 2], 0, 120],
      ['a.parquet', [3, 4], 120, 80],
    ]);
  });

  it('closes a shard exactly at the target and never splits a row group', () => {
    const shards = planShards([footer('a.parquet', [50, 50, 70, 30, 100, 1])], 100);
    expect(brief(shards)).toEqual([
      ['a.parquet', [0, 1], 0, 100],
      ['a.parquet', [2, 3], 100, 100],
      ['a.parquet', [4], 200, 100],
      ['a.parquet', [5], 300, 1],
    ]);
    for (const shard of shards) expect(shard.rowGroups).toEqual(Array.from({ length: shard.rowGroups.length }, (_, i) => shard.rowGroups[0]! + i));
  });

  it('gives a file with one huge row group a single shard', () => {
    expect(brief(planShards([footer('big.parquet', [1_000_000])], 1000))).toEqual([['big.parquet', [0], 0, 1_000_000]]);
  });

  it('starts a new shard per file, numbering shards across files in the order given', () => {
    const shards = planShards([footer('a.parquet', [60, 60, 60]), footer('b.parquet', [10]), footer('c.parquet', [200, 5, 5])], 100);
    expect(brief(shards)).toEqual([
      ['a.parquet', [0, 1], 0, 120],
      ['a.parquet', [2], 120, 60],
      ['b.parquet', [0], 0, 10],
      ['c.parquet', [0], 0, 200],
      ['c.parquet', [1, 2], 200, 10],
    ]);
    expect(shards.map((s) => s.index)).toEqual([0, 1, 2, 3, 4]);
    expect(shards.map((s) => s.fileSize)).toEqual([1003, 1003, 1001, 1003, 1003]);
  });

  it('is stable: planning twice gives the same shards, and row counts add up per file', () => {
    const footers = [footer('a.parquet', [7, 13, 29, 3, 31, 17]), footer('b.parquet', [11, 19, 23])];
    const first = planShards(footers, 30);
    expect(planShards(footers, 30)).toEqual(first);
    for (const f of footers) {
      const mine = first.filter((s) => s.file === f.uri);
      expect(mine.reduce((a, s) => a + s.rows, 0)).toBe(f.numRows);
      expect(mine.flatMap((s) => s.rowGroups)).toEqual(f.rowGroupRows.map((_, i) => i));
      // firstRow is the sum of the rows of all earlier row groups of the file.
      for (const s of mine) expect(s.firstRow).toBe(f.rowGroupRows.slice(0, s.rowGroups[0]).reduce((a, b) => a + b, 0));
    }
  });

  it('makes one shard per row group with a target of 1, and none for files without row groups', () => {
    expect(brief(planShards([footer('a.parquet', [5, 6]), footer('empty.parquet', [])], 1))).toEqual([
      ['a.parquet', [0], 0, 5],
      ['a.parquet', [1], 5, 6],
    ]);
    expect(planShards([], 100)).toEqual([]);
  });
});

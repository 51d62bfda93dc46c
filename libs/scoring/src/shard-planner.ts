import { z } from 'zod';
import type { ParquetFooter } from '@churn/arrow-io';

/** A unit of work: contiguous row groups of one file, about `targetRows` rows. */
export const shardSpecSchema = z
  .object({
    index: z.number().int().min(0),
    file: z.string().min(1),
    fileSize: z.number().int().min(0),
    rowGroups: z.array(z.number().int().min(0)).min(1),
    /** Row index, within the file, of the shard's first row. */
    firstRow: z.number().int().min(0),
    rows: z.number().int().min(0),
  })
  .strict();
export type ShardSpec = z.infer<typeof shardSpecSchema>;

/**
 * Cuts shards of contiguous row groups per file, closing a shard once it reaches `targetRows`.
 * A row group is never split (it is Parquet's unit of I/O), so a shard can exceed the target by
 * up to one row group. Files are taken in the order given (sorted by URI), so numbering is stable.
 */
export function planShards(footers: readonly ParquetFooter[], targetRows: number): ShardSpec[] {
  const shards: ShardSpec[] = [];
  for (const footer of footers) {
    let current: ShardSpec | undefined;
    let row = 0;
    footer.rowGroupRows.forEach((rows, group) => {
      if (!current || current.rows >= targetRows) {
        current = { index: shards.length, file: footer.uri, fileSize: footer.size, rowGroups: [], firstRow: row, rows: 0 };
        shards.push(current);
      }
      current.rowGroups.push(group);
      current.rows += rows;
      row += rows;
    });
  }
  return shards;
}

import { joinUri } from '@churn/object-store';

/** Where one run's files live: `<output>/as_of=<date>/model=<name>-<version>/`. */
export interface PartitionLayout {
  partitionUri: string;
  manifestUri: string;
  successUri: string;
  partUri(shardIndex: number): string;
  quarantineUri(shardIndex: number): string;
}

const pad = (n: number) => String(n).padStart(5, '0');

export function partitionLayout(outputUri: string, asOf: string, modelId: string): PartitionLayout {
  const partitionUri = joinUri(outputUri, `as_of=${asOf}`, `model=${modelId}`);
  return {
    partitionUri,
    manifestUri: joinUri(partitionUri, '_manifest.json'),
    successUri: joinUri(partitionUri, '_SUCCESS'),
    partUri: (i) => joinUri(partitionUri, `part-${pad(i)}.parquet`),
    quarantineUri: (i) => joinUri(partitionUri, '_quarantine', `part-${pad(i)}.parquet`),
  };
}

/** Deterministic run id: model identity and as-of date, with no `:` (BullMQ job ids forbid it). */
export function runIdFor(modelId: string, asOf: string): string {
  return `${modelId}_${asOf}`;
}

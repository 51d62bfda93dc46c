import { z } from 'zod';
import { ChurnError, isChurnError, toChurnError } from '@churn/errors';
import { joinUri, type ObjectStore } from '@churn/object-store';
import { partitionOfRunId, readCommittedManifest } from './partition-reader';
import type { RunManifest } from './run-manifest';
import { tableLayout, type PartitionLayout } from './score-table-layout';

/**
 * What became of a committed run in a system that follows the commit (the PostgreSQL
 * warehouse): `loaded`, `not_loaded` (it failed; the Parquet commit stands and the run can be
 * loaded later), or `superseded` (the target already holds a newer run of the same as-of date
 * and model, which an older one never overwrites).
 */
export const PUBLISH_STATES = ['loaded', 'not_loaded', 'superseded'] as const;
export type PublishState = (typeof PUBLISH_STATES)[number];

export const publishRecordSchema = z
  .object({
    /** The publisher's kind, e.g. `postgres`. */
    publisher: z.string(),
    /** Where, for people: host, port, database and schema; never a password. */
    target: z.string(),
    runId: z.string(),
    attempt: z.number().int().min(1),
    state: z.enum(PUBLISH_STATES),
    at: z.string(),
    /** Score rows loaded. */
    rows: z.number().int().min(0).optional(),
    seconds: z.number().min(0).optional(),
    /** Why it was not loaded (an error's code and message), or what superseded it. */
    error: z.object({ code: z.string(), message: z.string() }).strict().optional(),
    note: z.string().optional(),
  })
  .strict();
export type PublishRecord = z.infer<typeof publishRecordSchema>;

/** The committed run a publisher loads: where its table is and its manifest. */
export interface CommittedRunRef {
  store: ObjectStore;
  /** The score table root. */
  scoresUri: string;
  manifest: RunManifest;
  /** Held back from `latest` by the drift gate (the partition's `_HELD` marker). */
  held: boolean;
}

/**
 * A system a committed run is published to after its Parquet commit: the seam through which
 * commitRun (both modes) loads a warehouse without knowing which. A publisher reports failure
 * by throwing; the commit stands either way and the outcome is recorded beside the partition.
 */
export interface RunPublisher {
  readonly kind: string;
  /** Where it publishes, for records and messages (no password). */
  readonly target: string;
  publish(run: CommittedRunRef): Promise<Omit<PublishRecord, 'publisher' | 'target' | 'runId' | 'attempt' | 'at'>>;
}

/** The sidecar beside a committed partition: the latest outcome per publisher and target. */
export const PUBLISHED_FILE = '_published.json';

const publishedFileSchema = z.object({ formatVersion: z.literal(1), runId: z.string(), attempt: z.number().int(), records: z.array(publishRecordSchema) }).strict();

const publishedUri = (layout: PartitionLayout) => joinUri(layout.partitionUri, PUBLISHED_FILE);

/** The outcomes recorded for the partition's committed run (none for another run's records). */
export async function readPublishRecords(store: ObjectStore, layout: PartitionLayout, manifest: Pick<RunManifest, 'runId' | 'attempt'>): Promise<PublishRecord[]> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(publishedUri(layout));
  } catch (error) {
    if (isChurnError(error, 'INPUT_NOT_FOUND')) return [];
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return [];
  }
  const parsed = publishedFileSchema.safeParse(json);
  if (!parsed.success || parsed.data.runId !== manifest.runId || parsed.data.attempt !== manifest.attempt) return [];
  return parsed.data.records;
}

/** Records outcomes beside the partition, replacing earlier ones of the same publisher and target. */
export async function recordPublished(store: ObjectStore, layout: PartitionLayout, manifest: Pick<RunManifest, 'runId' | 'attempt'>, records: readonly PublishRecord[]): Promise<void> {
  const previous = await readPublishRecords(store, layout, manifest);
  const key = (r: PublishRecord) => `${r.publisher} ${r.target}`;
  const fresh = new Set(records.map(key));
  const all = [...previous.filter((r) => !fresh.has(key(r))), ...records];
  await store.put(publishedUri(layout), `${JSON.stringify({ formatVersion: 1, runId: manifest.runId, attempt: manifest.attempt, records: all }, null, 2)}\n`, { contentType: 'application/json' });
}

/**
 * Publishes a committed run with each publisher in turn. A failing publisher is recorded as
 * `not_loaded` with its error (the Parquet commit stands; nothing is thrown), and the outcomes
 * are written beside the partition, where `churn load` and readers find them.
 */
export async function publishCommitted(run: CommittedRunRef, publishers: readonly RunPublisher[], log?: (message: string) => void): Promise<PublishRecord[]> {
  if (publishers.length === 0) return [];
  const { manifest } = run;
  const records: PublishRecord[] = [];
  for (const publisher of publishers) {
    const base = { publisher: publisher.kind, target: publisher.target, runId: manifest.runId, attempt: manifest.attempt };
    try {
      const outcome = await publisher.publish(run);
      records.push(publishRecordSchema.parse({ ...base, ...outcome, at: new Date().toISOString() }));
      log?.(`run ${manifest.runId}: ${outcome.state} into ${publisher.target}${outcome.rows === undefined ? '' : ` (${outcome.rows} rows)`}${outcome.note ? `: ${outcome.note}` : ''}`);
    } catch (error) {
      const failure = toChurnError(error);
      records.push({ ...base, state: 'not_loaded', at: new Date().toISOString(), error: { code: failure.code, message: failure.message } });
      log?.(`run ${manifest.runId}: committed but not loaded into ${publisher.target}: [${failure.code}] ${failure.message}`);
    }
  }
  const layout = tableLayout(run.scoresUri).partition(manifest.asOf, `${manifest.model.name}-${manifest.model.version}`);
  await recordPublished(run.store, layout, manifest, records);
  return records;
}

/**
 * The committed run of a partition, for a later load: by as-of date and model id, or by run id
 * (which must be the partition's committed run).
 */
export async function committedRunOf(store: ObjectStore, scoresUri: string, which: { asOf: string; model: string } | { runId: string }): Promise<CommittedRunRef> {
  const where = 'runId' in which ? partitionOfRunId(which.runId) : { asOf: which.asOf, modelId: which.model };
  const layout = tableLayout(scoresUri).partition(where.asOf, where.modelId);
  const manifest = await readCommittedManifest(store, layout);
  if (!manifest) {
    throw new ChurnError('INPUT_NOT_FOUND', `${layout.partitionUri} is not committed (no _SUCCESS); score it first`, { details: { partition: layout.partitionUri } });
  }
  if ('runId' in which && manifest.runId !== which.runId) {
    throw new ChurnError('INPUT_NOT_FOUND', `run ${which.runId} is not the committed run of ${layout.partitionUri} (that is ${manifest.runId}); load that one, or score the run again`, {
      details: { runId: which.runId, committed: manifest.runId },
    });
  }
  return { store, scoresUri, manifest, held: (await store.head(layout.heldUri)) !== undefined };
}

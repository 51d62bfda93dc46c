import type { CommittedRunRef, RunPublisher } from '@churn/warehouse';
import { describeEndpoint, type WarehouseTarget } from './warehouse-config';
import { endpointOfTarget, withWarehouse } from './warehouse-connection';
import { loadCommittedRun, type LoadOutcome } from './warehouse-load';
import { ensureMigrated } from './warehouse-migrate';

/** Loads a committed run into the warehouse: migrates the schema when needed, then one load transaction. */
export async function loadRunInto(target: WarehouseTarget, run: CommittedRunRef): Promise<LoadOutcome> {
  return withWarehouse(target, async (conn) => {
    await ensureMigrated(conn);
    return loadCommittedRun(conn, run);
  });
}

/**
 * The PostgreSQL warehouse as a publisher of committed runs (the seam commitRun calls after the
 * Parquet commit, in both modes). A failure throws (WAREHOUSE_UNAVAILABLE naming host and
 * database); the commit records it and the run can be loaded later with the same load.
 */
export function postgresPublisher(target: WarehouseTarget): RunPublisher {
  return {
    kind: 'postgres',
    target: describeEndpoint(endpointOfTarget(target)),
    async publish(run) {
      const outcome = await loadRunInto(target, run);
      return { state: outcome.state, rows: outcome.rows, seconds: Math.round(outcome.seconds * 1000) / 1000, ...(outcome.note ? { note: outcome.note } : {}) };
    },
  };
}

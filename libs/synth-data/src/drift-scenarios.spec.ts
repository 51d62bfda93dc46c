import type { Table } from 'apache-arrow';
import { isChurnError } from '@churn/errors';
import { DRIFT_SCENARIO_INFO, DRIFT_SCENARIOS, NEW_PLAN, type DriftScenario } from './drift-scenarios';
import { synthFileTable } from './synth-table';
import { SYNTH_COLUMNS } from './synth-schema';

const BASE = { customers: 6_000, asOf: '2024-06-30', seed: 8, files: 1 } as const;

const values = (table: Table, name: string) => [...table.getChild(name)!].map((v) => (v === null ? null : String(v)));

function changedColumns(clean: Table, drifted: Table): string[] {
  return SYNTH_COLUMNS.filter((name) => values(clean, name).join('|') !== values(drifted, name).join('|'));
}

describe('drift scenarios', () => {
  const clean = synthFileTable(BASE, 0);
  const drifted = Object.fromEntries(DRIFT_SCENARIOS.map((s) => [s, synthFileTable({ ...BASE, drift: s }, 0)])) as Record<DriftScenario, Table>;

  it.each(DRIFT_SCENARIOS.filter((s) => s !== 'plan-mix-shift'))('%s changes only the columns it documents (and the labels drawn from them)', (scenario) => {
    const changed = changedColumns(clean, drifted[scenario]).filter((c) => c !== 'churned_within_30d');
    expect(changed).toEqual([...DRIFT_SCENARIO_INFO[scenario].columns]);
  });

  it('plan-mix-shift draws more enterprise and fewer free customers, with the same ids and status mix', () => {
    const share = (t: Table, plan: string) => values(t, 'plan').filter((p) => p === plan).length / t.numRows;
    expect(share(clean, 'free')).toBeCloseTo(0.3, 1);
    expect(share(drifted['plan-mix-shift'], 'free')).toBeCloseTo(0.1, 1);
    expect(share(drifted['plan-mix-shift'], 'enterprise')).toBeCloseTo(0.35, 1);
    expect(values(drifted['plan-mix-shift'], 'customer_id')).toEqual(values(clean, 'customer_id'));
    const active = (t: Table) => values(t, 'status').filter((v) => v === 'active').length / t.numRows;
    expect(active(drifted['plan-mix-shift'])).toBeCloseTo(active(clean), 1);
  });

  it('new-plan puts about 3.5% of customers on a plan the contract does not know', () => {
    const team = values(drifted['new-plan'], 'plan').filter((p) => p === NEW_PLAN).length / BASE.customers;
    expect(team).toBeGreaterThan(0.028);
    expect(team).toBeLessThan(0.042);
  });

  it('column-null nulls every nps value; api-errors-up only ever adds errors, within calls', () => {
    expect(values(drifted['column-null'], 'nps').every((v) => v === null)).toBe(true);
    const calls = drifted['api-errors-up'].getChild('api_calls_30d')!.toArray() as Int32Array;
    const before = clean.getChild('api_errors_30d')!.toArray() as Int32Array;
    const after = drifted['api-errors-up'].getChild('api_errors_30d')!.toArray() as Int32Array;
    for (let i = 0; i < calls.length; i++) {
      expect(after[i]! >= before[i]! && after[i]! <= calls[i]!).toBe(true);
    }
  });

  it('is deterministic and refuses an unknown scenario, naming the valid ones', () => {
    expect(values(synthFileTable({ ...BASE, drift: 'seat-contraction' }, 0), 'seats_active')).toEqual(values(drifted['seat-contraction'], 'seats_active'));
    let error: unknown;
    try {
      synthFileTable({ ...BASE, drift: 'meteor-strike' as DriftScenario }, 0);
    } catch (e) {
      error = e;
    }
    expect(isChurnError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain(DRIFT_SCENARIOS.join(', '));
  });
});

import { Bool, DataType, Float64, Int32, Utf8, tableToIPC, type Table } from 'apache-arrow';
import { isChurnError } from '@churn/errors';
import { trueChurnProbability } from './churn-probability';
import { synthFileTable } from './synth-table';
import { INT_COLUMNS, LABEL_COLUMN, PLANS, STATUSES, SYNTH_COLUMNS } from './synth-schema';

const AS_OF = '2024-06-30';

function ints(table: Table, name: string): Int32Array {
  return table.getChild(name)!.toArray() as Int32Array;
}

function strings(table: Table, name: string): (string | null)[] {
  return [...table.getChild(name)!] as (string | null)[];
}

function labels(table: Table): number[] {
  return [...table.getChild(LABEL_COLUMN)!].map((v) => (v ? 1 : 0));
}

function share(values: readonly unknown[], predicate: (v: unknown) => boolean): number {
  return values.filter(predicate).length / values.length;
}

function minOf(values: ArrayLike<number>): number {
  let min = Infinity;
  for (let i = 0; i < values.length; i++) min = Math.min(min, values[i]!);
  return min;
}

function maxOf(values: ArrayLike<number>): number {
  return -minOf(Array.from(values, (v) => -v));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Rank-based AUC (Mann-Whitney U), ties get their average rank. */
function auc(scores: ArrayLike<number>, outcomes: readonly number[]): number {
  const order = Array.from({ length: outcomes.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (outcomes[order[k]!]) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = outcomes.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

describe('synthFileTable schema', () => {
  const table = synthFileTable({ customers: 2_000, asOf: AS_OF, files: 1 }, 0);

  it('has the documented columns, in order, with their Arrow types', () => {
    expect(table.schema.fields.map((f) => f.name)).toEqual([...SYNTH_COLUMNS]);
    const expected = (name: string): DataType => {
      if (['customer_id', 'status', 'plan'].includes(name)) return new Utf8();
      if (name === 'mrr') return new Float64();
      if (name === LABEL_COLUMN) return new Bool();
      return new Int32();
    };
    for (const field of table.schema.fields) expect(String(field.type)).toBe(String(expected(field.name)));
    expect(INT_COLUMNS.length + 5).toBe(SYNTH_COLUMNS.length);
  });

  it('declares only days_since_last_login and nps nullable in clean data', () => {
    const nullable = table.schema.fields.filter((f) => f.nullable).map((f) => f.name);
    expect(nullable).toEqual(['days_since_last_login', 'nps']);
    for (const field of table.schema.fields) {
      if (!field.nullable) expect(table.getChild(field.name)!.nullCount).toBe(0);
    }
  });
});

describe('synthFileTable determinism', () => {
  const options = { customers: 3_000, asOf: AS_OF, files: 3, seed: 9 };
  const bytes = (t: Table) => Buffer.from(tableToIPC(t, 'file'));

  it('is pure: same options and file give the same bytes, in any generation order', () => {
    const late = [0, 1, 2].map((i) => synthFileTable(options, i))[2]!;
    expect(bytes(synthFileTable(options, 2)).equals(bytes(late))).toBe(true);
  });

  it('differs across seeds and across files', () => {
    const base = bytes(synthFileTable(options, 0));
    expect(base.equals(bytes(synthFileTable({ ...options, seed: 10 }, 0)))).toBe(false);
    expect(ints(synthFileTable(options, 0), 'tenure_days')).not.toEqual(ints(synthFileTable(options, 1), 'tenure_days'));
  });

  it('splits customers evenly into contiguous, unique id ranges', () => {
    const tables = [0, 1, 2].map((i) => synthFileTable({ ...options, customers: 3_001 }, i));
    expect(tables.map((t) => t.numRows)).toEqual([1_000, 1_000, 1_001]);
    const ids = tables.flatMap((t) => strings(t, 'customer_id'));
    expect(ids[0]).toBe('C000000001');
    expect(ids[1_000]).toBe('C000001001');
    expect(ids.at(-1)).toBe('C000003001');
    expect(new Set(ids).size).toBe(3_001);
    expect(ids.every((id) => /^C\d{9}$/.test(id!))).toBe(true);
  });

  it('rejects an out-of-range file index', () => {
    for (const index of [-1, 3, 1.5]) {
      let thrown: unknown;
      try {
        synthFileTable(options, index);
      } catch (error) {
        thrown = error;
      }
      expect(isChurnError(thrown, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});

describe('synthFileTable clean data (50k rows)', () => {
  const table = synthFileTable({ customers: 50_000, asOf: AS_OF, files: 1, seed: 1234 }, 0);
  const n = table.numRows;
  const status = strings(table, 'status');
  const plan = strings(table, 'plan');
  const y = labels(table);
  const p = trueChurnProbability(table);
  const active = Array.from({ length: n }, (_, i) => i).filter((i) => status[i] === 'active');
  const col = (name: string) => ints(table, name);

  it('keeps the counting invariants and has no negatives', () => {
    const [purchased, seatsActive, calls, errors, open, unanswered, adopted, total] = [
      'seats_purchased',
      'seats_active',
      'api_calls_30d',
      'api_errors_30d',
      'support_tickets_open',
      'tickets_unanswered_48h',
      'key_features_adopted',
      'key_features_total',
    ].map(col);
    const violations = { seats: 0, errors: 0, tickets: 0, features: 0 };
    for (let i = 0; i < n; i++) {
      if (seatsActive![i]! > purchased![i]! || purchased![i]! < 1) violations.seats++;
      if (errors![i]! > calls![i]!) violations.errors++;
      if (unanswered![i]! > open![i]!) violations.tickets++;
      if (adopted![i]! > total![i]!) violations.features++;
    }
    expect(violations).toEqual({ seats: 0, errors: 0, tickets: 0, features: 0 });
    for (const name of INT_COLUMNS) expect(minOf(col(name))).toBeGreaterThanOrEqual(0);
    expect(maxOf(col('nps'))).toBeLessThanOrEqual(10);
    expect(maxOf(col('days_to_renewal'))).toBeLessThanOrEqual(365);
    const mrr = table.getChild('mrr')!.toArray() as Float64Array;
    expect(mrr.every((m) => Number.isFinite(m) && m >= 0)).toBe(true);
    expect(new Set(strings(table, 'customer_id')).size).toBe(n);
  });

  it('draws the documented category shares and null rates', () => {
    expect(new Set(status)).toEqual(new Set(STATUSES));
    expect(new Set(plan)).toEqual(new Set(PLANS));
    expect(share(status, (s) => s === 'active')).toBeCloseTo(0.8, 1);
    expect(share(status, (s) => s === 'cancelled')).toBeCloseTo(0.12, 1);
    expect(share(status, (s) => s === 'paused')).toBeCloseTo(0.08, 1);
    const neverLoggedIn = table.getChild('days_since_last_login')!.nullCount / n;
    expect(neverLoggedIn).toBeGreaterThan(0.01);
    expect(neverLoggedIn).toBeLessThan(0.06);
    expect(table.getChild('nps')!.nullCount / n).toBeCloseTo(0.3, 1);
  });

  it('lets the plan drive seats, API usage, features and revenue', () => {
    const byPlan = (name: string, which: string) => [...col(name)].filter((_, i) => plan[i] === which);
    const seatMedians = PLANS.map((pl) => median(byPlan('seats_purchased', pl)));
    const callMedians = PLANS.map((pl) => median(byPlan('api_calls_30d', pl)));
    expect(seatMedians).toEqual([...seatMedians].sort((a, b) => a - b));
    expect(seatMedians[3]!).toBeGreaterThan(10 * seatMedians[1]!);
    expect(callMedians).toEqual([...callMedians].sort((a, b) => a - b));
    expect(maxOf(byPlan('seats_purchased', 'free'))).toBeLessThanOrEqual(5);
    expect(new Set(byPlan('key_features_total', 'free'))).toEqual(new Set([6]));
    expect(new Set(byPlan('key_features_total', 'enterprise'))).toEqual(new Set([8]));
    const mrr = table.getChild('mrr')!.toArray() as Float64Array;
    expect(mrr.filter((_, i) => plan[i] === 'free').every((m) => m === 0)).toBe(true);
  });

  it('churns 6-14% of active customers, matching the mean true probability', () => {
    const rate = active.reduce((sum, i) => sum + y[i]!, 0) / active.length;
    const meanP = active.reduce((sum, i) => sum + p[i]!, 0) / active.length;
    expect(rate).toBeGreaterThan(0.06);
    expect(rate).toBeLessThan(0.14);
    expect(Math.abs(rate - meanP)).toBeLessThan(0.01);
  });

  it('has informative true probabilities (AUC > 0.75)', () => {
    expect(auc(p, y)).toBeGreaterThan(0.75);
    expect(auc(active.map((i) => p[i]!), active.map((i) => y[i]!))).toBeGreaterThan(0.75);
  });

  it('shows the interaction in the labels: seat contraction hurts more near renewal', () => {
    const purchased = col('seats_purchased');
    const seatsActive = col('seats_active');
    const renewal = col('days_to_renewal');
    const churnRate = (keep: (i: number) => boolean) => {
      const rows = active.filter(keep);
      return rows.reduce((sum, i) => sum + y[i]!, 0) / rows.length;
    };
    const contracted = (i: number) => seatsActive[i]! / purchased[i]! <= 0.5;
    const healthy = (i: number) => seatsActive[i]! / purchased[i]! >= 0.8;
    const near = (i: number) => renewal[i]! <= 30;
    const far = (i: number) => renewal[i]! >= 180;
    const gapNear = churnRate((i) => near(i) && contracted(i)) - churnRate((i) => near(i) && healthy(i));
    const gapFar = churnRate((i) => far(i) && contracted(i)) - churnRate((i) => far(i) && healthy(i));
    expect(gapNear).toBeGreaterThan(2 * gapFar);
  });
});

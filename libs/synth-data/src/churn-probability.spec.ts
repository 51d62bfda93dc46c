import { Float64, Int32, Table, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { CHURN_COEFFICIENTS, trueChurnProbability } from './churn-probability';

type Row = Record<string, number | null>;

/** A healthy, mid-sized customer: every risk term near zero. */
const BASE: Row = {
  tenure_days: 730,
  seats_purchased: 20,
  seats_active: 20,
  logins_30d: 300,
  logins_prev_30d: 300,
  days_since_last_login: 1,
  api_calls_30d: 10_000,
  api_errors_30d: 0,
  key_features_adopted: 8,
  key_features_total: 8,
  support_tickets_open: 0,
  tickets_unanswered_48h: 0,
  billing_failures_90d: 0,
  nps: 7,
  days_to_renewal: 300,
  mrr: 980,
};

function tableOf(rows: Row[]): Table {
  const columns: Record<string, Vector> = {};
  for (const name of Object.keys(BASE)) {
    const values = rows.map((r) => (name in r ? r[name]! : BASE[name]!));
    columns[name] = vectorFromArray(values, name === 'mrr' ? new Float64() : new Int32());
  }
  return new Table(columns);
}

function logits(rows: Row[]): number[] {
  return Array.from(trueChurnProbability(tableOf(rows)), (p) => Math.log(p / (1 - p)));
}

/** Logit change from `change` applied on top of `context`. */
function effect(context: Row, change: Row): number {
  const [without, withChange] = logits([context, { ...context, ...change }]);
  return withChange! - without!;
}

describe('trueChurnProbability', () => {
  it('gives the healthy baseline a low probability', () => {
    const [p] = trueChurnProbability(tableOf([{}]));
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(0.03);
  });

  it('raises risk with every leading indicator', () => {
    const risks: Row[] = [
      { api_errors_30d: 1_000 },
      { key_features_adopted: 2 },
      { tickets_unanswered_48h: 1, support_tickets_open: 1 },
      { seats_active: 8 },
      { billing_failures_90d: 2 },
      { logins_30d: 60 },
      { days_to_renewal: 10 },
      { days_since_last_login: null },
    ];
    for (const risk of risks) expect(effect({}, risk)).toBeGreaterThan(0.1);
  });

  it('protects long-tenured customers and promoters', () => {
    expect(effect({}, { tenure_days: 3000 })).toBeLessThan(0);
    expect(effect({}, { nps: 10 })).toBeLessThan(0);
    expect(effect({}, { nps: 0 })).toBeGreaterThan(0);
  });

  it('amplifies seat contraction near renewal (the documented interaction)', () => {
    const contraction = { seats_active: 6 };
    const nearRenewal = effect({ days_to_renewal: 5 }, contraction);
    const farFromRenewal = effect({ days_to_renewal: 300 }, contraction);
    expect(farFromRenewal).toBeCloseTo(CHURN_COEFFICIENTS.seatContraction * 0.7, 6);
    expect(nearRenewal).toBeGreaterThan(2.5 * farFromRenewal);
  });

  it('weighs the API error rate more for heavy API users', () => {
    const light = effect({ api_calls_30d: 100 }, { api_errors_30d: 10 });
    const heavy = effect({ api_calls_30d: 1_000_000 }, { api_errors_30d: 100_000 });
    expect(heavy).toBeGreaterThan(1.8 * light);
  });

  it('adds a step once two tickets are unanswered', () => {
    const [none, one, two, three] = logits([0, 1, 2, 3].map((n) => ({ tickets_unanswered_48h: n, support_tickets_open: n })));
    const firstStep = one! - none!;
    const secondStep = two! - one!;
    expect(firstStep).toBeCloseTo(CHURN_COEFFICIENTS.unansweredTickets, 6);
    expect(secondStep).toBeCloseTo(CHURN_COEFFICIENTS.unansweredTickets + CHURN_COEFFICIENTS.unansweredBacklog, 6);
    expect(three! - two!).toBeCloseTo(firstStep, 6);
  });

  it('never throws on nulls, negatives, zero denominators or missing columns', () => {
    const bad: Row[] = [
      { tenure_days: null, seats_purchased: null, api_calls_30d: null, nps: null },
      { seats_purchased: 0, key_features_total: 0, api_calls_30d: 0, api_errors_30d: 5 },
      { logins_30d: -5, api_calls_30d: -3, seats_active: -2, billing_failures_90d: -1, days_to_renewal: -10 },
      { nps: 99, seats_active: 500, key_features_adopted: 20 },
    ];
    for (const p of trueChurnProbability(tableOf(bad))) {
      expect(Number.isFinite(p)).toBe(true);
      expect(p > 0 && p < 1).toBe(true);
    }
    const onlyIds = new Table({ customer_id: vectorFromArray(['C1', 'C2'], new Utf8()) });
    expect(Array.from(trueChurnProbability(onlyIds)).every((p) => p > 0 && p < 1)).toBe(true);
  });

  it('reads numbers written as strings (the wrong-type fault) like the numbers', () => {
    const rows: Row[] = [{ tenure_days: 40 }, { tenure_days: 4000 }, { tenure_days: null }];
    const numeric = trueChurnProbability(tableOf(rows));
    const asText = tableOf(rows).assign(
      new Table({ tenure_days: vectorFromArray(['40', ' 4000 ', null], new Utf8()) }),
    );
    expect(Array.from(trueChurnProbability(asText))).toEqual(Array.from(numeric));
    const garbage = tableOf([{}]).assign(new Table({ tenure_days: vectorFromArray(['n/a'], new Utf8()) }));
    expect(Number.isFinite(trueChurnProbability(garbage)[0])).toBe(true);
  });
});

import { CHURN_INPUT_COLUMNS, churnProbabilities, sigmoid, type ChurnInputColumns } from './churn-probability';
import { applyDrift, UPMARKET_PLAN_CUMULATIVE, type DriftScenario } from './drift-scenarios';
import type { Prng } from './prng';
import { INT_COLUMNS, PLAN_PROFILES, PLANS, PLAN_CUMULATIVE, STATUS_CUMULATIVE, type IntColumn } from './synth-schema';

/**
 * One file's customers as typed arrays, one per column: the generator never builds a row
 * object, which is what keeps a million rows within a second.
 */
export interface CustomerColumns {
  rows: number;
  /** Customer numbers; the id is "C" + the number zero-padded to 9 digits. */
  idNumbers: Int32Array;
  /** Index into STATUSES. */
  status: Uint8Array;
  /** Index into PLANS, then UNKNOWN_PLANS (4, 5, ...) for injected faults. */
  plan: Uint8Array;
  ints: Record<IntColumn, Int32Array>;
  mrr: Float64Array;
  /** 1 = churned. */
  label: Uint8Array;
  /** Per-row validity (1 = value present) of the columns that have nulls; absent = no nulls. */
  valid: Partial<Record<IntColumn | 'plan' | 'status', Uint8Array>>;
}

/** Largest monthly API call count generated: keeps the heaviest tail well inside Int32. */
const MAX_API_CALLS = 50_000_000;

function clampInt(value: number, min: number, max: number): number {
  const rounded = Math.round(value);
  return rounded < min ? min : rounded > max ? max : rounded;
}

function pick(cumulative: readonly number[], u: number): number {
  let k = 0;
  while (k < cumulative.length - 1 && u >= cumulative[k]!) k++;
  return k;
}

/**
 * Draws the observable columns of `rows` customers numbered from `firstNumber`. A per-row
 * engagement score correlates the marginals (busy accounts log in more, adopt more, answer NPS
 * higher); it is never stored and the label does not read it, so the label depends on the
 * observable columns alone.
 */
function drawObservables(rng: Prng, firstNumber: number, rows: number, planCumulative: readonly number[]): CustomerColumns {
  const ints = {} as Record<IntColumn, Int32Array>;
  for (const name of INT_COLUMNS) ints[name] = new Int32Array(rows);
  const {
    tenure_days: tenure,
    seats_purchased: purchased,
    seats_active: activeSeats,
    logins_30d: logins,
    logins_prev_30d: loginsPrev,
    days_since_last_login: daysSince,
    api_calls_30d: calls,
    api_errors_30d: errors,
    key_features_adopted: adopted,
    key_features_total: featuresTotal,
    support_tickets_open: ticketsOpen,
    tickets_unanswered_48h: unanswered,
    billing_failures_90d: billing,
    nps,
    days_to_renewal: renewal,
  } = ints;
  const idNumbers = new Int32Array(rows);
  const status = new Uint8Array(rows);
  const plan = new Uint8Array(rows);
  const mrr = new Float64Array(rows);
  const daysSinceValid = new Uint8Array(rows);
  const npsValid = new Uint8Array(rows);

  for (let i = 0; i < rows; i++) {
    idNumbers[i] = firstNumber + i;
    const st = pick(STATUS_CUMULATIVE, rng.float());
    status[i] = st;
    // Cancelled and paused accounts were drifting away before they left: lower engagement.
    const engagement = rng.gaussian() - (st === 1 ? 0.8 : st === 2 ? 0.5 : 0);
    const pl = pick(planCumulative, rng.float());
    plan[i] = pl;
    const profile = PLAN_PROFILES[PLANS[pl]!];

    const tenureDays = clampInt(rng.lognormal(profile.tenureMedian * Math.exp(0.15 * engagement), 0.75), 1, 3650);
    tenure[i] = tenureDays;

    const seats =
      pl === 0
        ? Math.min(5, 1 + rng.poisson(0.5))
        : clampInt(rng.lognormal(profile.seatsMedian, 0.6), profile.seatsMin, 100_000);
    purchased[i] = seats;

    const neverLoggedIn = rng.float() < profile.neverLoggedInProbability * (tenureDays < 90 ? 2 : 1);
    const utilisation = sigmoid(1.4 + 0.9 * engagement + 0.6 * rng.gaussian());
    const active = neverLoggedIn ? 0 : Math.min(seats, Math.round(seats * utilisation));
    activeSeats[i] = active;

    if (neverLoggedIn) {
      daysSinceValid[i] = 0;
    } else {
      const monthly = Math.max(1, active) * 6 * Math.exp(0.4 * engagement);
      // The previous window only counts the days the account existed in it.
      const previousShare = Math.min(1, Math.max(0, (tenureDays - 30) / 30));
      const currentShare = Math.min(1, tenureDays / 30);
      const decline = rng.float() < (engagement < -1 ? 0.25 : 0.1) ? 0.05 + 0.45 * rng.float() : Math.exp(0.25 * rng.gaussian());
      const previous = rng.poisson(monthly * previousShare);
      const current = rng.poisson(monthly * currentShare * decline);
      loginsPrev[i] = previous;
      logins[i] = current;
      let since: number;
      if (current > 0) since = Math.min(29, Math.floor((-Math.log(rng.openFloat()) * 30) / (current + 1)));
      else if (previous > 0) since = 30 + rng.int(30);
      else since = 60 + Math.floor(-Math.log(rng.openFloat()) * 120);
      daysSince[i] = Math.min(since, tenureDays);
      daysSinceValid[i] = 1;
    }

    if (rng.float() < profile.apiUseProbability) {
      const callCount = clampInt(rng.lognormal(profile.apiCallsMedian * Math.exp(0.5 * engagement), 1), 1, MAX_API_CALLS);
      // Most integrations are healthy; about 8% are broken and fail 3-28% of their calls.
      const rate = rng.float() < 0.08 ? 0.03 + 0.25 * rng.float() : Math.min(0.02, rng.lognormal(0.004, 0.8));
      calls[i] = callCount;
      errors[i] = Math.min(callCount, rng.poisson(callCount * rate));
    }

    const total = profile.keyFeaturesTotal;
    featuresTotal[i] = total;
    adopted[i] = rng.binomial(total, sigmoid(0.3 + 0.9 * engagement + 0.4 * Math.log(tenureDays / 365)));

    const open = rng.poisson(profile.ticketRate * Math.exp(0.4 * rng.gaussian() - 0.2 * engagement));
    ticketsOpen[i] = open;
    unanswered[i] = rng.binomial(open, 0.25);

    const billingTrouble = rng.float() < profile.billingTroubleProbability * (engagement < -1 ? 2 : 1);
    billing[i] = billingTrouble ? 1 + rng.poisson(0.8) : 0;

    if (rng.float() < 0.3) {
      npsValid[i] = 0;
    } else {
      nps[i] = clampInt(7.2 + 1.5 * engagement + 1.5 * rng.gaussian(), 0, 10);
      npsValid[i] = 1;
    }

    renewal[i] = rng.int(366);

    // Enterprise deals above 100 seats get a volume discount; every deal drifts a little from list.
    const discount = pl === 3 && seats > 100 ? 0.8 : 1;
    mrr[i] = pl === 0 ? 0 : Math.round(seats * profile.pricePerSeat * discount * Math.exp(0.08 * rng.gaussian()) * 100) / 100;
  }

  return {
    rows,
    idNumbers,
    status,
    plan,
    ints,
    mrr,
    label: new Uint8Array(rows),
    valid: { days_since_last_login: daysSinceValid, nps: npsValid },
  };
}

/** The churn model's inputs as Float64 (NaN = null), the same view trueChurnProbability decodes. */
export function churnInputsOf(columns: CustomerColumns): ChurnInputColumns {
  const inputs = {} as ChurnInputColumns;
  for (const name of CHURN_INPUT_COLUMNS) {
    const values = Float64Array.from(columns.ints[name]);
    const valid = columns.valid[name];
    if (valid) for (let i = 0; i < values.length; i++) if (!valid[i]) values[i] = Number.NaN;
    inputs[name] = values;
  }
  return inputs;
}

/** A drift scenario and the random stream its changes draw from. */
export interface DriftDraw {
  scenario: DriftScenario;
  rng: Prng;
}

/**
 * Generates clean customers with their labels. Labels use their own stream (`labelRng`), so
 * changing how a column is drawn never reshuffles which uniform decides which row's label. With
 * `drift`, the scenario changes the columns before the labels are drawn from them.
 */
export function generateCustomers(rng: Prng, labelRng: Prng, firstNumber: number, rows: number, drift?: DriftDraw): CustomerColumns {
  // plan-mix-shift draws the customers with other plan shares: a new sample, same process otherwise.
  const columns = drawObservables(rng, firstNumber, rows, drift?.scenario === 'plan-mix-shift' ? UPMARKET_PLAN_CUMULATIVE : PLAN_CUMULATIVE);
  if (drift) applyDrift(columns, drift.scenario, drift.rng);
  const probabilities = churnProbabilities(churnInputsOf(columns), rows);
  for (let i = 0; i < rows; i++) columns.label[i] = labelRng.float() < probabilities[i]! ? 1 : 0;
  return columns;
}

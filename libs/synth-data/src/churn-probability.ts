import type { Table } from 'apache-arrow';
import { readNumericColumn } from './arrow-column-reader';

/**
 * The label's generating process. P(churn within 30 days) is a deterministic function of the
 * observable columns only, so a trainer can recompute the true probability of every row and
 * compare a model's AUC with the best achievable one. docs/synthetic-data.md spells out the formula.
 */

/** Coefficients of the churn logit; see docs/synthetic-data.md for each term. */
export const CHURN_COEFFICIENTS = Object.freeze({
  /** Calibrated so that about 10% of active customers churn (see the calibration section of the docs). */
  intercept: -3.92,
  /** x api error rate x (0.2 + 0.8 x api volume): errors hurt most where the API is the product. */
  apiErrorRate: 9,
  /** x share of the plan's key features not adopted. */
  unadoptedFeatures: 1.6,
  /** x tickets unanswered over 48h (capped at 5). */
  unansweredTickets: 0.25,
  /** Step added once 2 or more tickets are unanswered: one slow ticket is noise, a backlog is a signal. */
  unansweredBacklog: 1.1,
  /** x seat contraction (1 - active/purchased). */
  seatContraction: 1.0,
  /** x seat contraction x renewal proximity: unused seats matter most when the renewal decision is due. */
  contractionNearRenewal: 3.0,
  /** x billing failures in 90 days (capped at 4). */
  billingFailures: 0.55,
  /** x login decline, ln((prev + 1) / (current + 1)) clipped to [0, 3]. */
  loginDecline: 0.8,
  /** x renewal proximity, max(0, 1 - days_to_renewal / 90). */
  renewalProximity: 0.6,
  /** When days_since_last_login is null: the account was never onboarded. */
  neverLoggedIn: 0.8,
  /** x ln(1 + tenure in years): long-standing customers are stickier. */
  tenure: -0.45,
  /** x (nps - 7) / 3 when nps is known: promoters stay, detractors leave. */
  nps: -0.35,
});

/** The columns the probability reads, as Float64 values where NaN means null or unreadable. */
export const CHURN_INPUT_COLUMNS = [
  'tenure_days',
  'seats_purchased',
  'seats_active',
  'logins_30d',
  'logins_prev_30d',
  'days_since_last_login',
  'api_calls_30d',
  'api_errors_30d',
  'key_features_adopted',
  'key_features_total',
  'tickets_unanswered_48h',
  'billing_failures_90d',
  'nps',
  'days_to_renewal',
] as const;

export type ChurnInputColumns = Record<(typeof CHURN_INPUT_COLUMNS)[number], Float64Array>;

const C = CHURN_COEFFICIENTS;

/** A usable count: finite and not negative. */
function isCount(x: number): boolean {
  return x >= 0 && x !== Infinity;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/**
 * The logit of row `i`. Missing or invalid inputs fall back to the neutral value of their term
 * (no risk added), except unknown feature adoption (half adopted) and unknown tenure (one year),
 * so dirty rows still get a finite, plausible probability.
 */
export function churnLogitAt(x: ChurnInputColumns, i: number): number {
  const calls = x.api_calls_30d[i]!;
  const errors = x.api_errors_30d[i]!;
  const hasCalls = isCount(calls) && calls > 0;
  const errorRate = hasCalls && isCount(errors) ? Math.min(1, errors / calls) : 0;
  const apiVolume = hasCalls ? Math.min(1, Math.log10(1 + calls) / 6) : 0;

  const adopted = x.key_features_adopted[i]!;
  const total = x.key_features_total[i]!;
  const unadopted = isCount(total) && total > 0 && isCount(adopted) ? clamp01(1 - adopted / total) : 0.5;

  const unansweredRaw = x.tickets_unanswered_48h[i]!;
  const unanswered = isCount(unansweredRaw) ? Math.min(unansweredRaw, 5) : 0;

  const purchased = x.seats_purchased[i]!;
  const active = x.seats_active[i]!;
  const contraction = isCount(purchased) && purchased > 0 && isCount(active) ? clamp01(1 - active / purchased) : 0;

  const billingRaw = x.billing_failures_90d[i]!;
  const billing = isCount(billingRaw) ? Math.min(billingRaw, 4) : 0;

  const current = x.logins_30d[i]!;
  const previous = x.logins_prev_30d[i]!;
  const loginDecline =
    isCount(current) && isCount(previous) ? Math.min(3, Math.max(0, Math.log((previous + 1) / (current + 1)))) : 0;

  const renewal = x.days_to_renewal[i]!;
  const renewalProximity = isCount(renewal) ? Math.max(0, 1 - renewal / 90) : 0;

  const neverLoggedIn = Number.isNaN(x.days_since_last_login[i]!) ? 1 : 0;

  const tenureDays = x.tenure_days[i]!;
  const tenureYears = isCount(tenureDays) ? tenureDays / 365 : 1;

  const npsRaw = x.nps[i]!;
  const npsCentered = Number.isFinite(npsRaw) ? (Math.min(10, Math.max(0, npsRaw)) - 7) / 3 : 0;

  return (
    C.intercept +
    C.apiErrorRate * errorRate * (0.2 + 0.8 * apiVolume) +
    C.unadoptedFeatures * unadopted +
    C.unansweredTickets * unanswered +
    (unanswered >= 2 ? C.unansweredBacklog : 0) +
    C.seatContraction * contraction +
    C.contractionNearRenewal * contraction * renewalProximity +
    C.billingFailures * billing +
    C.loginDecline * loginDecline +
    C.renewalProximity * renewalProximity +
    C.neverLoggedIn * neverLoggedIn +
    C.tenure * Math.log1p(tenureYears) +
    C.nps * npsCentered
  );
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** The true churn probability of every row of decoded input columns. */
export function churnProbabilities(x: ChurnInputColumns, rows: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = sigmoid(churnLogitAt(x, i));
  return out;
}

/**
 * The true P(churn within 30 days) of every row of a snapshot table, exactly as the generator
 * used it to draw `churned_within_30d`. Missing columns, nulls, wrong types and invalid values
 * never throw: they fall back to neutral values (see churnLogitAt). On dirty data the labels
 * of faulty rows were drawn from their values before the faults were injected.
 */
export function trueChurnProbability(table: Table): Float64Array {
  const rows = table.numRows;
  const columns = {} as ChurnInputColumns;
  for (const name of CHURN_INPUT_COLUMNS) columns[name] = readNumericColumn(table, name);
  return churnProbabilities(columns, rows);
}

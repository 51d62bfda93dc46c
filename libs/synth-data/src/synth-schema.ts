/**
 * The synthetic snapshot's columns, categories and per-plan profiles: the one place that says
 * what a generated file looks like, shared by the generator, the fault injector and the docs.
 */

/** Column names, in file order. */
export const SYNTH_COLUMNS = [
  'customer_id',
  'status',
  'plan',
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
  'support_tickets_open',
  'tickets_unanswered_48h',
  'billing_failures_90d',
  'nps',
  'days_to_renewal',
  'mrr',
  'churned_within_30d',
] as const satisfies readonly string[];

export type SynthColumn = (typeof SYNTH_COLUMNS)[number];

/** The label column: Bernoulli(trueChurnProbability). */
export const LABEL_COLUMN = 'churned_within_30d';

/** Columns that are nullable by design in clean data (null means "never" / "no answer"). */
export const NULLABLE_COLUMNS: readonly SynthColumn[] = ['days_since_last_login', 'nps'];

/** The Int32 columns, in file order. */
export const INT_COLUMNS = [
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
  'support_tickets_open',
  'tickets_unanswered_48h',
  'billing_failures_90d',
  'nps',
  'days_to_renewal',
] as const satisfies readonly SynthColumn[];

export type IntColumn = (typeof INT_COLUMNS)[number];

/** Valid status values; index = code used in generation. */
export const STATUSES = ['active', 'cancelled', 'paused'] as const;
/** Cumulative status shares: active 80%, cancelled 12%, paused 8%. */
export const STATUS_CUMULATIVE = [0.8, 0.92, 1] as const;

/** Valid plan values; index = plan code. */
export const PLANS = ['free', 'starter', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];
/** Cumulative plan shares: free 30%, starter 35%, pro 25%, enterprise 10%. */
export const PLAN_CUMULATIVE = [0.3, 0.65, 0.9, 1] as const;

/**
 * Plan values a sloppy upstream might write: near misses (case, whitespace) as well as plain
 * unknowns, so an input contract that matches categories exactly rejects every one of them.
 * Codes in the plan column continue after PLANS (4, 5, ...).
 */
export const UNKNOWN_PLANS = ['platinum', 'PRO ', 'Enterprise', 'trial', ' starter'] as const;

/** How each plan shapes the marginals; numbers are medians unless said otherwise. */
export interface PlanProfile {
  /** Median account age in days. */
  tenureMedian: number;
  /** Median seats bought (log-normal); free accounts get 1 + Poisson(0.5), at most 5. */
  seatsMedian: number;
  seatsMin: number;
  /** Probability the account uses the API at all. */
  apiUseProbability: number;
  /** Median monthly API calls of accounts that use it. */
  apiCallsMedian: number;
  /** Key features the plan includes. */
  keyFeaturesTotal: number;
  /** Mean open support tickets. */
  ticketRate: number;
  /** Probability of at least one failed payment in 90 days (0 for free: nothing to bill). */
  billingTroubleProbability: number;
  /** List price per seat per month. */
  pricePerSeat: number;
  /** Probability the account never logged in. */
  neverLoggedInProbability: number;
}

export const PLAN_PROFILES: Readonly<Record<Plan, PlanProfile>> = {
  free: {
    tenureMedian: 180,
    seatsMedian: 1,
    seatsMin: 1,
    apiUseProbability: 0.35,
    apiCallsMedian: 300,
    keyFeaturesTotal: 6,
    ticketRate: 0.15,
    billingTroubleProbability: 0,
    pricePerSeat: 0,
    neverLoggedInProbability: 0.07,
  },
  starter: {
    tenureMedian: 365,
    seatsMedian: 6,
    seatsMin: 2,
    apiUseProbability: 0.6,
    apiCallsMedian: 3_000,
    keyFeaturesTotal: 6,
    ticketRate: 0.5,
    billingTroubleProbability: 0.1,
    pricePerSeat: 19,
    neverLoggedInProbability: 0.02,
  },
  pro: {
    tenureMedian: 540,
    seatsMedian: 25,
    seatsMin: 5,
    apiUseProbability: 0.85,
    apiCallsMedian: 30_000,
    keyFeaturesTotal: 8,
    ticketRate: 1.0,
    billingTroubleProbability: 0.07,
    pricePerSeat: 49,
    neverLoggedInProbability: 0.01,
  },
  enterprise: {
    tenureMedian: 900,
    seatsMedian: 150,
    seatsMin: 25,
    apiUseProbability: 0.95,
    apiCallsMedian: 300_000,
    keyFeaturesTotal: 8,
    ticketRate: 2.5,
    billingTroubleProbability: 0.04,
    pricePerSeat: 89,
    neverLoggedInProbability: 0.005,
  },
};

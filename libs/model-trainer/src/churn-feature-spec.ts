import type { BundleManifestInput } from '@churn/model-bundle';

/** Everything in a bundle except the model section, reference profile and training record. */
export type ModelSpec = Pick<BundleManifestInput, 'features' | 'inputContract' | 'eligibility' | 'segments' | 'riskBands' | 'explain'>;

const count = (name: string, extra: { max?: number; nullable?: boolean } = {}) => ({
  name,
  type: 'integer' as const,
  nullable: extra.nullable ?? false,
  min: 0,
  ...(extra.max === undefined ? {} : { max: extra.max }),
});

/**
 * The feature spec of the committed churn model, over the snapshot columns `churn synth` writes.
 * Leading indicators a customer-success manager can act on are `actionable` and carry a reason
 * template; lagging echoes (logins, recency) and context (tenure, plan, size) are features the
 * model uses but never offers as reasons. Centers and scales are filled in by the trainer from
 * the training split.
 */
export function churnModelSpec(): ModelSpec {
  return {
    features: [
      { id: 'api_error_rate', transform: { kind: 'ratio', numerator: 'api_errors_30d', denominator: 'api_calls_30d' }, fill: 0, clip: [0, 1], actionable: true, reason: 'API error rate {api_error_rate:pct} over 30 days ({api_errors_30d} errors in {api_calls_30d} calls)' },
      { id: 'api_calls', transform: { kind: 'numeric', column: 'api_calls_30d' }, log1p: true, clip: [0, 1e7], actionable: false, description: 'API usage volume (log)' },
      { id: 'feature_adoption', transform: { kind: 'ratio', numerator: 'key_features_adopted', denominator: 'key_features_total' }, fill: 0, clip: [0, 1], actionable: true, reason: 'uses {key_features_adopted} of {key_features_total} key features' },
      { id: 'tickets_unanswered_48h', transform: { kind: 'numeric', column: 'tickets_unanswered_48h' }, clip: [0, 20], actionable: true, reason: '{tickets_unanswered_48h} support tickets unanswered for more than 48 hours' },
      { id: 'support_tickets_open', transform: { kind: 'numeric', column: 'support_tickets_open' }, clip: [0, 50], log1p: true, actionable: true, reason: '{support_tickets_open} open support tickets' },
      { id: 'seat_utilization', transform: { kind: 'ratio', numerator: 'seats_active', denominator: 'seats_purchased' }, fill: 0, clip: [0, 1.5], actionable: true, reason: 'only {seats_active} of {seats_purchased} purchased seats are active' },
      { id: 'seats_purchased', transform: { kind: 'numeric', column: 'seats_purchased' }, log1p: true, clip: [0, 1e6], actionable: false, description: 'account size (log seats)' },
      { id: 'billing_failures_90d', transform: { kind: 'numeric', column: 'billing_failures_90d' }, clip: [0, 10], actionable: true, reason: '{billing_failures_90d} failed payments in the last 90 days' },
      { id: 'login_trend', transform: { kind: 'ratio', numerator: 'logins_30d', denominator: 'logins_prev_30d', offset: 1 }, fill: 1, clip: [0, 5], actionable: true, reason: 'logins fell to {logins_30d} in the last 30 days from {logins_prev_30d} the month before' },
      { id: 'logins_30d', transform: { kind: 'numeric', column: 'logins_30d' }, log1p: true, clip: [0, 1e6], actionable: false, description: 'login volume (log); a lagging echo, never a reason' },
      { id: 'days_since_last_login', transform: { kind: 'numeric', column: 'days_since_last_login' }, fill: 365, clip: [0, 365], actionable: false, description: 'recency; null (never logged in) counts as 365' },
      { id: 'never_logged_in', transform: { kind: 'is_null', column: 'days_since_last_login' }, actionable: false },
      { id: 'renewal_proximity', transform: { kind: 'numeric', column: 'days_to_renewal' }, clip: [0, 365], actionable: true, reason: 'renewal due in {days_to_renewal} days' },
      { id: 'tenure', transform: { kind: 'numeric', column: 'tenure_days' }, log1p: true, clip: [0, 20000], actionable: false, description: 'customer age (log days)' },
      { id: 'nps', transform: { kind: 'numeric', column: 'nps' }, fill: 7, clip: [0, 10], actionable: true, reason: 'NPS response of {nps} out of 10' },
      { id: 'nps_missing', transform: { kind: 'is_null', column: 'nps' }, actionable: false },
      { id: 'mrr', transform: { kind: 'numeric', column: 'mrr' }, log1p: true, clip: [0, 1e7], actionable: false, description: 'monthly recurring revenue (log)' },
      { id: 'plan_free', transform: { kind: 'one_hot', column: 'plan', category: 'free' }, group: 'plan', actionable: false },
      { id: 'plan_starter', transform: { kind: 'one_hot', column: 'plan', category: 'starter' }, group: 'plan', actionable: false },
      { id: 'plan_pro', transform: { kind: 'one_hot', column: 'plan', category: 'pro' }, group: 'plan', actionable: false },
      { id: 'plan_enterprise', transform: { kind: 'one_hot', column: 'plan', category: 'enterprise' }, group: 'plan', actionable: false },
    ],
    inputContract: {
      idColumn: 'customer_id',
      columns: [
        { name: 'customer_id', type: 'string', nullable: false },
        { name: 'status', type: 'string', nullable: false, allowed: ['active', 'cancelled', 'paused'] },
        { name: 'plan', type: 'string', nullable: false, allowed: ['free', 'starter', 'pro', 'enterprise'] },
        count('tenure_days'),
        count('seats_purchased'),
        count('seats_active'),
        count('logins_30d'),
        count('logins_prev_30d'),
        count('days_since_last_login', { nullable: true }),
        count('api_calls_30d'),
        count('api_errors_30d'),
        count('key_features_adopted'),
        count('key_features_total'),
        count('support_tickets_open'),
        count('tickets_unanswered_48h'),
        count('billing_failures_90d'),
        count('nps', { nullable: true, max: 10 }),
        count('days_to_renewal', { max: 366 }),
        { name: 'mrr', type: 'number', nullable: false, min: 0 },
      ],
      maxBadRowFraction: 0.05,
      rejectDuplicateIds: true,
    },
    eligibility: { column: 'status', in: ['active'] },
    // Copied into the score table, so analysts filter by plan and MRR without a join.
    segments: ['plan', 'mrr'],
    riskBands: [
      { name: 'low', minScore: 0 },
      { name: 'medium', minScore: 0.2 },
      { name: 'high', minScore: 0.5 },
    ],
    explain: { method: 'auto', baseline: 'median', space: 'probability', policy: 'band:medium,high', permutations: 8 },
  };
}

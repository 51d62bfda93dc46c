import { z } from 'zod';
import type { CustomerColumns } from './customer-generator';
import type { Prng } from './prng';
import { PLANS, UNKNOWN_PLANS } from './synth-schema';

/**
 * Drift scenarios: the same generator with one documented change to the customer base or the
 * product (docs/synthetic-data.md, "Drift scenarios"), so drift detection can be provoked and
 * tested. Labels are drawn after the change from the unchanged churn process, so a drifted
 * snapshot's outcomes follow its drifted columns.
 */
export const DRIFT_SCENARIOS = ['api-errors-up', 'plan-mix-shift', 'seat-contraction', 'new-plan', 'column-null'] as const;
export type DriftScenario = (typeof DRIFT_SCENARIOS)[number];
export const driftScenarioSchema = z.enum(DRIFT_SCENARIOS);

/** The plan a `new-plan` snapshot introduces; its code follows PLANS and UNKNOWN_PLANS. */
export const NEW_PLAN = 'team';
export const NEW_PLAN_CODE = PLANS.length + UNKNOWN_PLANS.length;

/** What each scenario changes, in a sentence, and the columns it writes. */
export const DRIFT_SCENARIO_INFO: Readonly<Record<DriftScenario, { summary: string; columns: readonly string[] }>> = {
  'api-errors-up': {
    summary: 'an API incident: half of the accounts that call the API gain an extra 5-30% failed calls',
    columns: ['api_errors_30d'],
  },
  'plan-mix-shift': {
    summary: 'the customer base moves upmarket: plan shares free 10% / starter 25% / pro 30% / enterprise 35% (from 30 / 35 / 25 / 10), with every plan-dependent column drawn for the new plan',
    columns: ['plan', 'tenure_days', 'seats_purchased', 'seats_active', 'logins_30d', 'logins_prev_30d', 'days_since_last_login', 'api_calls_30d', 'api_errors_30d', 'key_features_adopted', 'key_features_total', 'support_tickets_open', 'tickets_unanswered_48h', 'billing_failures_90d', 'mrr'],
  },
  'seat-contraction': {
    summary: '40% of the accounts with two or more active seats stop using 40-80% of them',
    columns: ['seats_active'],
  },
  'new-plan': {
    summary: `a new plan "${NEW_PLAN}" launches: 3.5% of all customers (drawn from starter and pro) are on it; the input contract does not know it, so those rows are quarantined (unknown_category)`,
    columns: ['plan'],
  },
  'column-null': {
    summary: 'the NPS survey export breaks: nps is null for every customer',
    columns: ['nps'],
  },
};

/** Plan shares of `plan-mix-shift`, cumulative, in PLANS order. */
export const UPMARKET_PLAN_CUMULATIVE = [0.1, 0.35, 0.65, 1] as const;

const STARTER = PLANS.indexOf('starter');
const PRO = PLANS.indexOf('pro');
/** Share of starter and pro customers moved to the new plan: 3.5% of all customers (60% are starter or pro). */
const NEW_PLAN_SHARE = 0.035 / 0.6;

/**
 * Applies the after-the-draw part of a scenario to one file's customers (in place), from its own
 * random stream. `plan-mix-shift` acts while the customers are drawn instead (see
 * UPMARKET_PLAN_CUMULATIVE); here it does nothing.
 */
export function applyDrift(columns: CustomerColumns, scenario: DriftScenario, rng: Prng): void {
  const { rows, ints } = columns;
  switch (scenario) {
    case 'api-errors-up': {
      const { api_calls_30d: calls, api_errors_30d: errors } = ints;
      for (let i = 0; i < rows; i++) {
        const n = calls[i]!;
        if (n === 0 || rng.float() >= 0.5) continue;
        errors[i] = Math.min(n, errors[i]! + rng.poisson(n * (0.05 + 0.25 * rng.float())));
      }
      return;
    }
    case 'seat-contraction': {
      const active = ints.seats_active;
      for (let i = 0; i < rows; i++) {
        if (active[i]! < 2 || rng.float() >= 0.4) continue;
        active[i] = Math.round(active[i]! * (0.2 + 0.4 * rng.float()));
      }
      return;
    }
    case 'new-plan': {
      for (let i = 0; i < rows; i++) {
        const plan = columns.plan[i]!;
        if ((plan === STARTER || plan === PRO) && rng.float() < NEW_PLAN_SHARE) columns.plan[i] = NEW_PLAN_CODE;
      }
      return;
    }
    case 'column-null': {
      columns.valid.nps = new Uint8Array(rows);
      return;
    }
    case 'plan-mix-shift':
      return;
  }
}

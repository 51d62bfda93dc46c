import type { EligibilityRule } from '@churn/model-bundle';
import type { ColumnCache } from './column-cache';

/** 1 where the row satisfies the rule (e.g. status in ['active']); all ones without a rule. */
export function eligibleMask(columns: ColumnCache, rule: EligibilityRule | undefined): Uint8Array {
  const mask = new Uint8Array(columns.numRows);
  if (!rule) return mask.fill(1);
  const { codes, categories } = columns.categoricalColumn(rule.column);
  const accepted = new Set(rule.in);
  const ok = Uint8Array.from(categories, (c) => (accepted.has(c) ? 1 : 0));
  for (let r = 0; r < mask.length; r++) {
    const code = codes[r]!;
    mask[r] = code >= 0 ? ok[code]! : 0;
  }
  return mask;
}

/** Human-readable form of a rule, for logs and docs ("status in (active)"). */
export function describeEligibility(rule: EligibilityRule | undefined): string {
  return rule ? `${rule.column} in (${rule.in.join(', ')})` : 'every row';
}

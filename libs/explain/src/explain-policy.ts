import { ChurnError } from '@churn/errors';
import type { ReferenceProfile } from '@churn/model-bundle';

/** Which scored rows get explanations: `none | all | band:a,b | score>=X | top:P%`, parsed once. */
export type ExplainPolicy =
  | { kind: 'none' }
  | { kind: 'all' }
  | { kind: 'bands'; bands: string[] }
  | { kind: 'minScore'; min: number }
  | { kind: 'topPercent'; percent: number };

const FORMS = 'none, all, band:<name>[,<name>...] (e.g. band:medium,high), score>=<0..1> (e.g. score>=0.3), or top:<P>% (e.g. top:5%)';

function refuse(text: string, why: string): ChurnError {
  return new ChurnError('INVALID_ARGUMENT', `invalid explain policy "${text}": ${why}; accepted forms: ${FORMS}`, { details: { policy: text } });
}

/** A plain decimal number (no hex, exponent-free or with one); `Number()` alone would take "" and "0x1". */
function parseDecimal(text: string): number | undefined {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : undefined;
}

/**
 * Parses an explanation policy. Band names are checked against `bandNames` when given.
 *
 * @throws ChurnError INVALID_ARGUMENT naming the accepted forms.
 */
export function parsePolicy(text: string, bandNames?: readonly string[]): ExplainPolicy {
  const policy = text.trim();
  if (policy === 'none') return { kind: 'none' };
  if (policy === 'all') return { kind: 'all' };
  if (policy.startsWith('band:')) {
    const bands = [...new Set(policy.slice('band:'.length).split(',').map((b) => b.trim()))];
    if (bands.some((b) => b === '')) throw refuse(text, 'a band name is empty');
    const unknown = bandNames ? bands.filter((b) => !bandNames.includes(b)) : [];
    if (unknown.length > 0) {
      throw refuse(text, `unknown risk band${unknown.length > 1 ? 's' : ''} ${unknown.map((b) => `"${b}"`).join(', ')} (this model's bands: ${bandNames!.join(', ')})`);
    }
    return { kind: 'bands', bands };
  }
  const score = /^score\s*>=\s*(.*)$/.exec(policy);
  if (score) {
    const min = parseDecimal(score[1]!.trim());
    if (min === undefined || min < 0 || min > 1) throw refuse(text, 'the score threshold must be a number from 0 to 1');
    return { kind: 'minScore', min };
  }
  if (policy.startsWith('top:')) {
    const body = policy.slice('top:'.length).trim();
    if (!body.endsWith('%')) throw refuse(text, 'give the share of rows as a percentage, e.g. top:5%');
    const percent = parseDecimal(body.slice(0, -1).trim());
    if (percent === undefined || percent <= 0 || percent > 100) throw refuse(text, 'the percentage must be more than 0 and at most 100');
    return { kind: 'topPercent', percent };
  }
  throw refuse(text, 'not a policy');
}

/**
 * The score above which a row is in the top `percent`% of the reference (training) score
 * distribution: the reference quantile at (100 - percent)%, linearly interpolated between the
 * profile's 101 percentiles. A fixed reference makes the decision per row, so every shard decides
 * alone and the selection does not depend on sharding. top:100% means every row (-Infinity).
 *
 * @throws ChurnError INVALID_BUNDLE without a reference profile.
 */
export function topPercentThreshold(percent: number, reference: ReferenceProfile | undefined): number {
  if (!reference) {
    throw new ChurnError('INVALID_BUNDLE', `explain policy top:${percent}% needs the reference score quantiles of the bundle, and this bundle has no reference profile; use score>=X or band:<name> instead`);
  }
  if (percent >= 100) return Number.NEGATIVE_INFINITY;
  const quantiles = reference.score.quantiles;
  const at = 100 - percent;
  const lower = Math.floor(at);
  const upper = Math.min(lower + 1, quantiles.length - 1);
  const low = quantiles[lower]!;
  return low + (quantiles[upper]! - low) * (at - lower);
}

/**
 * Which rows to explain (1) under a policy: by risk band (`bandCodes` index `bandNames`), by
 * minimum score, or `top:P%` against the reference score quantiles (see `topPercentThreshold`).
 * Rows with a NaN score are only selected by `all` or by band.
 */
export function selectRows(
  policy: ExplainPolicy,
  scores: Float32Array,
  bandCodes: Int32Array,
  bandNames: readonly string[],
  reference?: ReferenceProfile,
): Uint8Array {
  const n = scores.length;
  const selected = new Uint8Array(n);
  switch (policy.kind) {
    case 'none':
      return selected;
    case 'all':
      return selected.fill(1);
    case 'bands': {
      const wanted = new Uint8Array(bandNames.length);
      for (const band of policy.bands) {
        const code = bandNames.indexOf(band);
        if (code === -1) {
          throw new ChurnError('INVALID_ARGUMENT', `explain policy names risk band "${band}", which this model does not have (bands: ${bandNames.join(', ')})`);
        }
        wanted[code] = 1;
      }
      for (let i = 0; i < n; i++) selected[i] = wanted[bandCodes[i]!] ?? 0;
      return selected;
    }
    case 'minScore':
    case 'topPercent': {
      // Scores are float32: compare against the threshold rounded the same way, so score>=0.45
      // keeps a row whose stored score reads 0.45 (float32 0.45 is just below the double 0.45).
      const min = Math.fround(policy.kind === 'minScore' ? policy.min : topPercentThreshold(policy.percent, reference));
      for (let i = 0; i < n; i++) selected[i] = scores[i]! >= min ? 1 : 0;
      return selected;
    }
  }
}

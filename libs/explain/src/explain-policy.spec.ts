import { ChurnError } from '@churn/errors';
import type { ReferenceProfile } from '@churn/model-bundle';
import { parsePolicy, selectRows, topPercentThreshold } from './explain-policy';

const BANDS = ['low', 'medium', 'high'];

function refusal(text: string, bands?: readonly string[]): ChurnError {
  try {
    parsePolicy(text, bands);
  } catch (error) {
    if (error instanceof ChurnError) return error;
    throw error;
  }
  throw new Error(`"${text}" was accepted`);
}

/** A reference whose score quantile at q% is q / 200 (scores spread over [0, 0.5]). */
const reference: ReferenceProfile = {
  rows: 1000,
  features: {},
  score: { edges: [0, 1], counts: [1000], quantiles: Array.from({ length: 101 }, (_, q) => q / 200), mean: 0.25 },
};

describe('parsePolicy', () => {
  it('parses every accepted form', () => {
    expect(parsePolicy('none')).toEqual({ kind: 'none' });
    expect(parsePolicy(' all ')).toEqual({ kind: 'all' });
    expect(parsePolicy('band:high', BANDS)).toEqual({ kind: 'bands', bands: ['high'] });
    expect(parsePolicy('band:medium, high,medium', BANDS)).toEqual({ kind: 'bands', bands: ['medium', 'high'] });
    expect(parsePolicy('band:anything')).toEqual({ kind: 'bands', bands: ['anything'] });
    expect(parsePolicy('score>=0.3')).toEqual({ kind: 'minScore', min: 0.3 });
    expect(parsePolicy('score >= 1')).toEqual({ kind: 'minScore', min: 1 });
    expect(parsePolicy('top:5%')).toEqual({ kind: 'topPercent', percent: 5 });
    expect(parsePolicy('top:0.5%')).toEqual({ kind: 'topPercent', percent: 0.5 });
    expect(parsePolicy('top:100%')).toEqual({ kind: 'topPercent', percent: 100 });
  });

  it.each([
    ['', /not a policy/],
    ['some', /not a policy/],
    ['band:', /band name is empty/],
    ['band:medium,,high', /band name is empty/],
    ['score>=', /number from 0 to 1/],
    ['score>=1.5', /number from 0 to 1/],
    ['score>=0x1', /number from 0 to 1/],
    ['score>0.5', /not a policy/],
    ['top:5', /percentage, e.g. top:5%/],
    ['top:0%', /more than 0 and at most 100/],
    ['top:150%', /more than 0 and at most 100/],
    ['top:abc%', /more than 0 and at most 100/],
  ])('refuses %j with INVALID_ARGUMENT listing the accepted forms', (text, why) => {
    const error = refusal(text);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(why);
    expect(error.message).toMatch(/accepted forms: none, all, band:<name>.*score>=<0\.\.1>.*top:<P>%/);
  });

  it('checks band names against the model when given', () => {
    const error = refusal('band:medium,critical,urgent', BANDS);
    expect(error.message).toMatch(/unknown risk bands "critical", "urgent" \(this model's bands: low, medium, high\)/);
  });
});

describe('selectRows', () => {
  const scores = Float32Array.of(0.05, 0.2, 0.45, 0.48, 0.9, Number.NaN);
  const bandCodes = Int32Array.of(0, 1, 1, 2, 2, 0);

  it('selects none, all, by band and by minimum score', () => {
    expect(Array.from(selectRows({ kind: 'none' }, scores, bandCodes, BANDS))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(selectRows({ kind: 'all' }, scores, bandCodes, BANDS))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(selectRows({ kind: 'bands', bands: ['medium', 'high'] }, scores, bandCodes, BANDS))).toEqual([0, 1, 1, 1, 1, 0]);
    expect(Array.from(selectRows({ kind: 'minScore', min: 0.45 }, scores, bandCodes, BANDS))).toEqual([0, 0, 1, 1, 1, 0]);
  });

  it('selects top:P% against the reference quantiles, interpolated, independently of the other rows', () => {
    expect(topPercentThreshold(10, reference)).toBeCloseTo(0.45, 12);
    expect(topPercentThreshold(2.5, reference)).toBeCloseTo(0.4875, 12);
    expect(topPercentThreshold(100, reference)).toBe(Number.NEGATIVE_INFINITY);
    expect(Array.from(selectRows({ kind: 'topPercent', percent: 10 }, scores, bandCodes, BANDS, reference))).toEqual([0, 0, 1, 1, 1, 0]);
    expect(Array.from(selectRows({ kind: 'topPercent', percent: 2.5 }, scores, bandCodes, BANDS, reference))).toEqual([0, 0, 0, 0, 1, 0]);
    // The same row gets the same decision alone as in company.
    expect(Array.from(selectRows({ kind: 'topPercent', percent: 10 }, scores.subarray(3, 4), bandCodes.subarray(3, 4), BANDS, reference))).toEqual([1]);
    expect(Array.from(selectRows({ kind: 'topPercent', percent: 100 }, Float32Array.of(-1, 0), Int32Array.of(0, 0), BANDS, reference))).toEqual([1, 1]);
  });

  it('refuses top:P% without a reference profile and bands the model does not have', () => {
    expect(() => selectRows({ kind: 'topPercent', percent: 5 }, scores, bandCodes, BANDS)).toThrow(/no reference profile/);
    expect(() => selectRows({ kind: 'bands', bands: ['critical'] }, scores, bandCodes, BANDS)).toThrow(/risk band "critical"/);
  });
});

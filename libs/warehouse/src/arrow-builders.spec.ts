import { stringColumn } from './arrow-builders';

describe('stringColumn', () => {
  const roundTrip = (values: (string | null)[]) => {
    const vector = stringColumn(values);
    return { values: Array.from({ length: vector.length }, (_, i) => vector.get(i) as string | null), nulls: vector.nullCount };
  };

  it('keeps ASCII values, empty strings and nulls in place', () => {
    const values = ['Logins fell 40% in 30 days', '', null, 'seats 12 of 20', null, 'x'];
    expect(roundTrip(values)).toEqual({ values, nulls: 2 });
  });

  it('encodes non-ASCII values with their own byte offsets', () => {
    const values = ['émile', null, '日本語のテキスト', 'plain', '😀 smile'];
    expect(roundTrip(values)).toEqual({ values, nulls: 1 });
  });

  it('does not merge lone surrogates of neighbouring values into one character', () => {
    // Joined, "\ud83d" + "\ude00" would be one emoji; each value alone is a replacement character.
    expect(roundTrip(['\ud83d', '\ude00']).values).toEqual(['\ufffd', '\ufffd']);
  });

  it('handles no rows and only nulls', () => {
    expect(roundTrip([])).toEqual({ values: [], nulls: 0 });
    expect(roundTrip([null, null])).toEqual({ values: [null, null], nulls: 2 });
  });
});

import { Dictionary, Int32, Int64, Utf8, Vector, vectorFromArray } from 'apache-arrow';
import { idKeys } from './id-keys';

describe('idKeys', () => {
  const ids = ['C000000001', 'C000000002', null, 'C000000001', 'ü-7'];

  it('gives equal ids equal 53-bit keys, distinct ids distinct keys, and nulls NaN', () => {
    const keys = idKeys(vectorFromArray(ids, new Utf8()), [0, 1, 2, 3, 4]);
    expect(keys[0]).toBe(keys[3]);
    expect(new Set([keys[0], keys[1], keys[4]]).size).toBe(3);
    expect(Number.isNaN(keys[2]!)).toBe(true);
    for (const k of [keys[0]!, keys[1]!, keys[4]!]) expect(Number.isSafeInteger(k)).toBe(true);
  });

  it('is the same for plain, dictionary-encoded and multi-chunk columns, and for a subset of rows', () => {
    const plain = idKeys(vectorFromArray(ids, new Utf8()), [0, 1, 2, 3, 4]);
    const dictionary = idKeys(vectorFromArray(ids, new Dictionary(new Utf8(), new Int32())), [0, 1, 2, 3, 4]);
    const plainHead: Vector = vectorFromArray(ids.slice(0, 2), new Utf8());
    const chunked = idKeys(plainHead.concat(vectorFromArray(ids.slice(2), new Dictionary(new Utf8(), new Int32()))), [0, 1, 2, 3, 4]);
    expect(Array.from(dictionary)).toEqual(Array.from(plain));
    expect(Array.from(chunked)).toEqual(Array.from(plain));
    expect(Array.from(idKeys(vectorFromArray(ids, new Utf8()), [1, 3]))).toEqual([plain[1], plain[3]]);
  });

  it('keys integer ids by their decimal text', () => {
    const keys = idKeys(vectorFromArray([7n, 8n, 7n], new Int64()), [0, 1, 2]);
    expect(keys[0]).toBe(keys[2]);
    expect(keys[0]).toBe(idKeys(vectorFromArray(['7'], new Utf8()), [0])[0]);
  });
});

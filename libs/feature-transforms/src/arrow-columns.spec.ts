import {
  Bool,
  DataType,
  Dictionary,
  Float32,
  Float64,
  Int8,
  Int32,
  Int64,
  Table,
  Uint16,
  Uint64,
  Utf8,
  tableFromArrays,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { ChurnError } from '@churn/errors';
import { arrowTypeMatches, categoricalColumn, duplicateRows, nullMask, numericColumn, stringValues, takeStrings } from './arrow-columns';
import { ColumnCache } from './column-cache';

const dictType = () => new Dictionary(new Utf8(), new Int32());

/** The strings a categorical column stands for, row by row (null for code -1). */
function decode(column: { codes: Int32Array; categories: string[] }): (string | null)[] {
  return Array.from(column.codes, (c) => (c < 0 ? null : column.categories[c]!));
}

function nullFlags(isNull: Uint8Array): number[] {
  return Array.from(isNull);
}

describe('nullMask', () => {
  it('flags the nulls of chunked and sliced columns from their bitmaps, strings and numbers alike', () => {
    const numbers = vectorFromArray([1, null, 3, null, 5, 6], new Float64()).slice(1);
    const strings = vectorFromArray(['a', null, 'c'], new Utf8()).concat(vectorFromArray([null, 'e'], new Utf8()));
    expect(nullFlags(nullMask(numbers).isNull)).toEqual([1, 0, 1, 0, 0]);
    expect(nullMask(numbers).nullCount).toBe(2);
    expect(nullFlags(nullMask(strings).isNull)).toEqual([0, 1, 0, 1, 0]);
    expect(nullFlags(nullMask(vectorFromArray([1, 2], new Int32())).isNull)).toEqual([0, 0]);
  });
});

describe('numericColumn', () => {
  it('reads a nullable Int32 column: nulls become NaN and are flagged', () => {
    const column = numericColumn(vectorFromArray([5, null, -3, null, 0], new Int32()));
    expect(Array.from(column.values)).toEqual([5, Number.NaN, -3, Number.NaN, 0]);
    expect(nullFlags(column.isNull)).toEqual([0, 1, 0, 1, 0]);
    expect(column.nullCount).toBe(2);
  });

  it('keeps NaN and infinities of a Float64 column without calling them null', () => {
    const column = numericColumn(vectorFromArray([1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null], new Float64()));
    expect(Array.from(column.values)).toEqual([1.5, Number.NaN, Infinity, -Infinity, Number.NaN]);
    expect(nullFlags(column.isNull)).toEqual([0, 0, 0, 0, 1]);
    expect(column.nullCount).toBe(1);
  });

  it('converts Int64 and Uint64 (bigint) values to numbers', () => {
    const signed = numericColumn(vectorFromArray([1n, -42n, null, 9_007_199_254_740_993n], new Int64()));
    expect(Array.from(signed.values)).toEqual([1, -42, Number.NaN, 2 ** 53]); // beyond 2^53: nearest double
    expect(nullFlags(signed.isNull)).toEqual([0, 0, 1, 0]);
    const unsigned = numericColumn(vectorFromArray([0n, 18_446_744_073_709_551_615n], new Uint64()));
    expect(Array.from(unsigned.values)).toEqual([0, 2 ** 64]);
  });

  it('reads booleans as 0/1 with nulls flagged, past the first byte of the bitmap', () => {
    const input = Array.from({ length: 19 }, (_, i) => (i === 11 ? null : i % 3 === 0));
    const column = numericColumn(vectorFromArray(input, new Bool()));
    expect(Array.from(column.values)).toEqual(input.map((v) => (v === null ? Number.NaN : v ? 1 : 0)));
    expect(column.isNull[11]).toBe(1);
    expect(column.nullCount).toBe(1);
  });

  it('reads small integer and float32 types', () => {
    expect(Array.from(numericColumn(vectorFromArray([-128, 127], new Int8())).values)).toEqual([-128, 127]);
    expect(Array.from(numericColumn(vectorFromArray([65_535, 1], new Uint16())).values)).toEqual([65_535, 1]);
    expect(Array.from(numericColumn(vectorFromArray([0.25, null], new Float32())).values)).toEqual([0.25, Number.NaN]);
  });

  it('concatenates chunks in order (vector.concat), each with its own nulls', () => {
    const first = vectorFromArray([1, 2, null], new Int32());
    const second = vectorFromArray([null, 5], new Int32());
    const third = vectorFromArray([6], new Int32());
    const vector = first.concat(second, third);
    expect(vector.data).toHaveLength(3);
    const column = numericColumn(vector);
    expect(Array.from(column.values)).toEqual([1, 2, Number.NaN, Number.NaN, 5, 6]);
    expect(nullFlags(column.isNull)).toEqual([0, 0, 1, 1, 0, 0]);
    expect(column.nullCount).toBe(2);
  });

  it('reads a column of a table built from several record batches', () => {
    const a = tableFromArrays({ x: Float64Array.from([1, 2]), flag: [true, false] });
    const b = tableFromArrays({ x: Float64Array.from([3, 4, 5]), flag: [false, true, true] });
    const table = new Table([...a.batches, ...b.batches]);
    expect(table.getChild('x')!.data).toHaveLength(2);
    expect(Array.from(numericColumn(table.getChild('x')!).values)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(numericColumn(table.getChild('flag')!).values)).toEqual([1, 0, 0, 1, 1]);
  });

  it('reads sliced vectors (a chunk with a non-zero offset) like Arrow does', () => {
    const ints = vectorFromArray([10, 11, null, 13, 14, 15], new Int32()).slice(2, 5);
    const column = numericColumn(ints);
    expect(Array.from(column.values)).toEqual([Number.NaN, 13, 14]);
    expect(nullFlags(column.isNull)).toEqual([1, 0, 0]);
    expect(column.nullCount).toBe(1);

    const big = numericColumn(vectorFromArray([1n, 2n, 3n, null], new Int64()).slice(1));
    expect(Array.from(big.values)).toEqual([2, 3, Number.NaN]);

    const bools = vectorFromArray([true, false, true, true, false, null, true, false, true, false], new Bool()).slice(3);
    expect(Array.from(numericColumn(bools).values)).toEqual([1, 0, Number.NaN, 1, 0, 1, 0]);

    const table = tableFromArrays({ x: Float64Array.from([0.5, 1.5, 2.5, 3.5]) }).slice(1, 3);
    expect(Array.from(numericColumn(table.getChild('x')!).values)).toEqual([1.5, 2.5]);
  });

  it('returns empty arrays for an empty column', () => {
    const column = numericColumn(vectorFromArray([], new Float64()));
    expect(column.values).toHaveLength(0);
    expect(column.nullCount).toBe(0);
  });
});

describe('categoricalColumn', () => {
  const values = ['pro', null, 'free', 'pro', 'enterprise', null, 'free'];

  it('codes a plain Utf8 column by first appearance, -1 for null', () => {
    const column = categoricalColumn(vectorFromArray(values, new Utf8()));
    expect(column.categories).toEqual(['pro', 'free', 'enterprise']);
    expect(Array.from(column.codes)).toEqual([0, -1, 1, 0, 2, -1, 1]);
  });

  it('gives a dictionary column the same semantics as the plain one', () => {
    const plain = categoricalColumn(vectorFromArray(values, new Utf8()));
    const dict = categoricalColumn(vectorFromArray(values, dictType()));
    expect(decode(dict)).toEqual(values);
    expect(decode(plain)).toEqual(values);
    // One code per distinct value, equal values share it.
    expect(new Set(dict.categories).size).toBe(dict.categories.length);
    for (let i = 0; i < values.length; i++) {
      for (let j = 0; j < values.length; j++) {
        expect(dict.codes[i] === dict.codes[j]).toBe(plain.codes[i] === plain.codes[j]);
      }
    }
  });

  it('maps chunks with different dictionaries onto one set of codes', () => {
    const vector = vectorFromArray(['a', 'b', null], dictType()).concat(vectorFromArray(['b', 'c', 'a'], dictType()));
    expect(vector.data).toHaveLength(2);
    const column = categoricalColumn(vector);
    expect(decode(column)).toEqual(['a', 'b', null, 'b', 'c', 'a']);
    expect(column.codes[1]).toBe(column.codes[3]);
    expect(column.codes[0]).toBe(column.codes[5]);
    expect(column.categories.slice().sort()).toEqual(['a', 'b', 'c']);
  });

  it('mixes plain and dictionary chunks, and reads sliced chunks', () => {
    const mixed = vectorFromArray(['x', 'y'], new Utf8());
    expect(decode(categoricalColumn(mixed.concat(vectorFromArray(['y', null, 'z'], new Utf8()))))).toEqual(['x', 'y', 'y', null, 'z']);

    const sliced = vectorFromArray(['a', 'b', null, 'c', 'a'], dictType()).slice(1, 4);
    expect(decode(categoricalColumn(sliced))).toEqual(['b', null, 'c']);
    const slicedPlain = vectorFromArray(['a', 'b', null, 'c', 'a'], new Utf8()).slice(2);
    expect(decode(categoricalColumn(slicedPlain))).toEqual([null, 'c', 'a']);
  });

  it('codes a non-string column by its string form (numeric ids)', () => {
    const column = categoricalColumn(vectorFromArray([7n, 8n, 7n, null], new Int64()));
    expect(decode(column)).toEqual(['7', '8', '7', null]);
  });
});

describe('stringValues', () => {
  it('returns every row, or the selected rows, as strings with null for missing', () => {
    const ids = vectorFromArray(['c-1', null, 'c-3', 'c-4'], new Utf8());
    expect(stringValues(ids)).toEqual(['c-1', null, 'c-3', 'c-4']);
    expect(stringValues(ids, Int32Array.from([3, 1, 0]))).toEqual(['c-4', null, 'c-1']);
    expect(stringValues(vectorFromArray([12n, 13n], new Int64()), [1])).toEqual(['13']);
    expect(stringValues(ids, [])).toEqual([]);
  });
});

describe('takeStrings', () => {
  const ids = ['c-1', null, 'c-3', 'ünïcode-4', '', 'c-6'];

  function taken(vector: Vector, rows: number[]): (string | null)[] {
    const out = takeStrings(vector, Int32Array.from(rows));
    expect(DataType.isUtf8(out.type)).toBe(true);
    expect(out.length).toBe(rows.length);
    return Array.from({ length: out.length }, (_, i) => out.get(i));
  }

  it('copies the selected rows of a plain Utf8 column, in the order given, keeping nulls', () => {
    const vector = vectorFromArray(ids, new Utf8());
    expect(taken(vector, [0, 2, 3, 4, 5])).toEqual(['c-1', 'c-3', 'ünïcode-4', '', 'c-6']);
    expect(taken(vector, [5, 1, 0, 1])).toEqual(['c-6', null, 'c-1', null]);
    expect(taken(vector, [])).toEqual([]);
  });

  it('takes rows across chunks and from sliced chunks', () => {
    const vector = vectorFromArray(ids.slice(0, 2), new Utf8()).concat(vectorFromArray(ids.slice(2), new Utf8()));
    expect(taken(vector, [0, 1, 2, 5, 3])).toEqual(['c-1', null, 'c-3', 'c-6', 'ünïcode-4']);
    const sliced = vectorFromArray(ids, new Utf8()).slice(1);
    expect(taken(sliced, [0, 1, 2, 4])).toEqual([null, 'c-3', 'ünïcode-4', 'c-6']);
  });

  it('decodes dictionary and non-string columns through their categories', () => {
    expect(taken(vectorFromArray(ids, dictType()), [3, 1, 0])).toEqual(['ünïcode-4', null, 'c-1']);
    expect(taken(vectorFromArray([10n, null, 30n], new Int64()), [2, 1])).toEqual(['30', null]);
    const dict = vectorFromArray(['a', 'b'], dictType());
    expect(taken(dict, [1, 1, 0])).toEqual(['b', 'b', 'a']);
  });

  it('agrees with stringValues, through ColumnCache too', () => {
    const table = new Table({ id: vectorFromArray(ids, new Utf8()), plan: vectorFromArray(ids, dictType()) } as Record<string, Vector>);
    const cache = new ColumnCache(table);
    const rows = Int32Array.from([4, 0, 1, 3]);
    cache.categoricalColumn('plan');
    for (const name of ['id', 'plan']) {
      const out = cache.takeStrings(name, rows);
      expect(Array.from({ length: out.length }, (_, i) => out.get(i))).toEqual(stringValues(table.getChild(name)!, rows));
    }
  });
});

describe('arrowTypeMatches', () => {
  const cases: [string, DataType, Record<'string' | 'integer' | 'number' | 'boolean', boolean>][] = [
    ['Utf8', new Utf8(), { string: true, integer: false, number: false, boolean: false }],
    ['Dictionary<Int32, Utf8>', dictType(), { string: true, integer: false, number: false, boolean: false }],
    ['Dictionary<Int32, Int32>', new Dictionary(new Int32(), new Int32()), { string: false, integer: false, number: false, boolean: false }],
    ['Int32', new Int32(), { string: false, integer: true, number: true, boolean: false }],
    ['Int64', new Int64(), { string: false, integer: true, number: true, boolean: false }],
    ['Float64', new Float64(), { string: false, integer: false, number: true, boolean: false }],
    ['Bool', new Bool(), { string: false, integer: false, number: false, boolean: true }],
  ];
  it.each(cases)('%s', (_name, type, expected) => {
    for (const [contractType, ok] of Object.entries(expected)) {
      expect([contractType, arrowTypeMatches(type, contractType as keyof typeof expected)]).toEqual([contractType, ok]);
    }
  });
});

describe('ColumnCache', () => {
  const table = new Table({
    tenure: vectorFromArray([1, 2, null], new Int32()),
    plan: vectorFromArray(['pro', 'free', 'pro'], dictType()),
  } as Record<string, Vector>);

  it('decodes each column once and reuses it', () => {
    const cache = new ColumnCache(table);
    expect(cache.numRows).toBe(3);
    expect(cache.numericColumn('tenure')).toBe(cache.numericColumn('tenure'));
    expect(cache.categoricalColumn('plan')).toBe(cache.categoricalColumn('plan'));
    expect(cache.vector('plan').length).toBe(3);
  });

  it('refuses a missing column with CONTRACT_VIOLATION naming it', () => {
    const cache = new ColumnCache(table);
    for (const read of [() => cache.vector('seats'), () => cache.numericColumn('seats'), () => cache.categoricalColumn('seats')]) {
      let error: unknown;
      try {
        read();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ChurnError);
      expect((error as ChurnError).code).toBe('CONTRACT_VIOLATION');
      expect((error as ChurnError).message).toContain('"seats"');
      expect((error as ChurnError).details).toEqual({ column: 'seats' });
    }
  });
});

describe('duplicateRows', () => {
  /** The reference: a string per row and a Map, written independently of the byte hashing. */
  const naive = (values: (string | null)[]) => {
    const first = new Map<string, number>();
    const out = new Map<number, number>();
    values.forEach((v, r) => {
      if (v === null) return;
      if (first.has(v)) out.set(r, first.get(v)!);
      else first.set(v, r);
    });
    return out;
  };

  it('finds later rows of a repeated value in plain, dictionary, multi-chunk and sliced vectors', () => {
    const values = ['a', 'b', null, 'a', 'ünï', 'c', 'b', 'ünï', null, 'a'];
    expect(duplicateRows(vectorFromArray(values, new Utf8()))).toEqual(naive(values));
    expect(duplicateRows(vectorFromArray(values, dictType()))).toEqual(naive(values));
    const chunked = vectorFromArray(values.slice(0, 4), new Utf8()).concat(vectorFromArray(values.slice(4), dictType()) as unknown as Vector<Utf8>);
    expect(duplicateRows(chunked)).toEqual(naive(values));
    expect(duplicateRows(vectorFromArray(values, new Utf8()).slice(3))).toEqual(naive(values.slice(3)));
  });

  it('agrees with the naive check on many ids, including prefixes and empty strings', () => {
    const values: string[] = [];
    for (let i = 0; i < 20_000; i++) values.push(`C${(i * 7919) % 15_000}`, i % 1000 === 0 ? '' : `C${i}x`);
    expect(duplicateRows(vectorFromArray(values, new Utf8()))).toEqual(naive(values));
  });

  it('declines encodings it cannot read in place', () => {
    expect(duplicateRows(vectorFromArray([1, 2, 1], new Int32()))).toBeUndefined();
  });
});

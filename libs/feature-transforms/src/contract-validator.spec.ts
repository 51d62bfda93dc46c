import { Bool, Dictionary, Field, Float64, Int32, Int64, Schema, Table, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { ChurnError } from '@churn/errors';
import { eligibilitySchema, inputContractSchema, type BundleManifestInput, type InputContract } from '@churn/model-bundle';
import { ColumnCache } from './column-cache';
import { missingColumns, validateContract } from './contract-validator';
import { describeEligibility, eligibleMask } from './eligibility';

const dictType = () => new Dictionary(new Utf8(), new Int32());

function cacheOf(columns: Record<string, Vector>): ColumnCache {
  return new ColumnCache(new Table(columns));
}

function contractOf(input: BundleManifestInput['inputContract']): InputContract {
  return inputContractSchema.parse(input);
}

function sortedEntries<V>(map: Map<number, V> | Map<string, V>): [unknown, V][] {
  return [...(map as Map<unknown, V>).entries()].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));
}

describe('validateContract', () => {
  it('accepts clean rows', () => {
    const columns = cacheOf({
      customer_id: vectorFromArray(['a', 'b', 'c'], new Utf8()),
      tenure_days: vectorFromArray([0, 10, 400], new Int32()),
      mrr: vectorFromArray([0, 12.5, 99.99], new Float64()),
      plan: vectorFromArray(['free', 'pro', 'pro'], dictType()),
      is_trial: vectorFromArray([true, false, true], new Bool()),
    });
    const contract = contractOf({
      idColumn: 'customer_id',
      columns: [
        { name: 'customer_id', type: 'string' },
        { name: 'tenure_days', type: 'integer', min: 0, max: 400 },
        { name: 'mrr', type: 'number', min: 0 },
        { name: 'plan', type: 'string', allowed: ['free', 'pro'] },
        { name: 'is_trial', type: 'boolean' },
      ],
    });
    const issues = validateContract(columns, contract);
    expect(issues.badRows.size).toBe(0);
    expect(issues.counts.size).toBe(0);
  });

  it('flags nulls in required columns but not in nullable ones', () => {
    const columns = cacheOf({
      customer_id: vectorFromArray(['a', 'b', 'c', 'd'], new Utf8()),
      seats: vectorFromArray([1, null, 3, null], new Int32()),
      last_login_days: vectorFromArray([null, 1, null, 2], new Int32()),
      region: vectorFromArray(['eu', null, 'us', 'us'], dictType()),
    });
    const contract = contractOf({
      idColumn: 'customer_id',
      columns: [
        { name: 'customer_id', type: 'string' },
        { name: 'seats', type: 'integer' },
        { name: 'last_login_days', type: 'integer', nullable: true },
        { name: 'region', type: 'string' },
      ],
    });
    const issues = validateContract(columns, contract);
    expect(sortedEntries(issues.badRows)).toEqual([
      [1, 'seats: null in a required column'],
      [3, 'seats: null in a required column'],
    ]);
    expect(Object.fromEntries(issues.counts)).toEqual({
      'seats: null in a required column': 2,
      'region: null in a required column': 1,
    });
  });

  it('reports NaN, infinities and range breaks with the value and the bound', () => {
    const columns = cacheOf({
      customer_id: vectorFromArray(['a', 'b', 'c', 'd', 'e', 'f', 'g'], new Utf8()),
      ratio: vectorFromArray([0.5, Number.NaN, Infinity, -Infinity, -0.25, 1.5, 1], new Float64()),
    });
    const contract = contractOf({ idColumn: 'customer_id', columns: [{ name: 'customer_id', type: 'string' }, { name: 'ratio', type: 'number', min: 0, max: 1 }] });
    const issues = validateContract(columns, contract);
    expect(sortedEntries(issues.badRows)).toEqual([
      [1, 'ratio: NaN is not a valid value'],
      [2, 'ratio: Infinity is not a valid value'],
      [3, 'ratio: -Infinity is not a valid value'],
      [4, 'ratio: -0.25 is below the minimum 0'],
      [5, 'ratio: 1.5 is above the maximum 1'],
    ]);
    expect(Object.fromEntries(issues.counts)).toEqual({
      'ratio: NaN': 1,
      'ratio: infinite value': 2,
      'ratio: below minimum 0': 1,
      'ratio: above maximum 1': 1,
    });
  });

  it('refuses NaN and infinities even without declared bounds, and in nullable columns', () => {
    const columns = cacheOf({
      customer_id: vectorFromArray(['a', 'b', 'c', 'd'], new Utf8()),
      score: vectorFromArray([null, Number.NaN, Infinity, 3], new Float64()),
    });
    const contract = contractOf({ idColumn: 'customer_id', columns: [{ name: 'customer_id', type: 'string' }, { name: 'score', type: 'number', nullable: true }] });
    const issues = validateContract(columns, contract);
    expect([...issues.badRows.keys()].sort()).toEqual([1, 2]);
  });

  it('checks Int64 and boolean columns against ranges', () => {
    const columns = cacheOf({
      customer_id: vectorFromArray(['a', 'b', 'c'], new Utf8()),
      events: vectorFromArray([5n, -1n, 10_000_000_000n], new Int64()),
      flag: vectorFromArray([true, null, false], new Bool()),
    });
    const contract = contractOf({
      idColumn: 'customer_id',
      columns: [
        { name: 'customer_id', type: 'string' },
        { name: 'events', type: 'integer', min: 0, max: 1_000_000 },
        { name: 'flag', type: 'boolean' },
      ],
    });
    const issues = validateContract(columns, contract);
    expect(sortedEntries(issues.badRows)).toEqual([
      [1, 'events: -1 is below the minimum 0'],
      [2, 'events: 10000000000 is above the maximum 1000000'],
    ]);
    expect(issues.counts.get('flag: null in a required column')).toBe(1);
  });

  it('reports unknown categories for plain and dictionary string columns alike', () => {
    const plans = ['free', 'gold', null, 'pro', 'gold'];
    for (const type of [new Utf8(), dictType()]) {
      const columns = cacheOf({
        customer_id: vectorFromArray(['a', 'b', 'c', 'd', 'e'], new Utf8()),
        plan: vectorFromArray(plans, type),
      });
      const contract = contractOf({
        idColumn: 'customer_id',
        columns: [{ name: 'customer_id', type: 'string' }, { name: 'plan', type: 'string', nullable: true, allowed: ['free', 'pro'] }],
      });
      const issues = validateContract(columns, contract);
      expect(sortedEntries(issues.badRows)).toEqual([
        [1, 'plan: unknown category "gold" (allowed: free, pro)'],
        [4, 'plan: unknown category "gold" (allowed: free, pro)'],
      ]);
      expect(Object.fromEntries(issues.counts)).toEqual({ 'plan: unknown category': 2 });
    }
  });

  it('flags every row of a column whose Arrow type does not match', () => {
    const columns = cacheOf({
      customer_id: vectorFromArray(['a', 'b', 'c'], new Utf8()),
      seats: vectorFromArray([1.5, 2, 3], new Float64()),
      plan: vectorFromArray([1, 2, 3], new Int32()),
    });
    const contract = contractOf({
      idColumn: 'customer_id',
      columns: [
        { name: 'customer_id', type: 'string' },
        { name: 'seats', type: 'integer' },
        { name: 'plan', type: 'string' },
      ],
    });
    const issues = validateContract(columns, contract);
    expect(issues.badRows.size).toBe(3);
    const seatsKind = 'seats: has Arrow type Float64 where the contract expects integer';
    const planKind = 'plan: has Arrow type Int32 where the contract expects string';
    for (const row of [0, 1, 2]) expect(issues.badRows.get(row)).toBe(seatsKind);
    expect(Object.fromEntries(issues.counts)).toEqual({ [seatsKind]: 3, [planKind]: 3 });
  });

  it('quarantines only the second and later occurrences of an id', () => {
    const ids = ['a', 'b', 'a', null, 'c', 'b', 'a', null];
    for (const type of [new Utf8(), dictType()]) {
      const columns = cacheOf({ customer_id: vectorFromArray(ids, type) });
      const contract = contractOf({ idColumn: 'customer_id', columns: [{ name: 'customer_id', type: 'string' }] });
      const issues = validateContract(columns, contract);
      expect(sortedEntries(issues.badRows)).toEqual([
        [2, 'customer_id: duplicate id "a" (an earlier row of this shard has it)'],
        [3, 'customer_id: null in a required column'],
        [5, 'customer_id: duplicate id "b" (an earlier row of this shard has it)'],
        [6, 'customer_id: duplicate id "a" (an earlier row of this shard has it)'],
        [7, 'customer_id: null in a required column'],
      ]);
      expect(Object.fromEntries(issues.counts)).toEqual({ 'customer_id: null in a required column': 2, 'customer_id: duplicate id': 3 });
    }
  });

  it('keeps duplicate ids when rejectDuplicateIds is off, and handles integer ids', () => {
    const columns = cacheOf({ account: vectorFromArray([7n, 8n, 7n], new Int64()) });
    const off = contractOf({ idColumn: 'account', rejectDuplicateIds: false, columns: [{ name: 'account', type: 'integer' }] });
    expect(validateContract(columns, off).badRows.size).toBe(0);
    const on = contractOf({ idColumn: 'account', columns: [{ name: 'account', type: 'integer' }] });
    expect(sortedEntries(validateContract(columns, on).badRows)).toEqual([[2, 'account: duplicate id "7" (an earlier row of this shard has it)']]);
  });

  it('keeps the first reason of a row (contract order) but counts every reason', () => {
    const columns = cacheOf({
      customer_id: vectorFromArray(['a', 'a', 'b'], new Utf8()),
      seats: vectorFromArray([null, -2, 1], new Int32()),
      plan: vectorFromArray(['gold', 'gold', 'pro'], new Utf8()),
    });
    const contract = contractOf({
      idColumn: 'customer_id',
      columns: [
        { name: 'customer_id', type: 'string' },
        { name: 'seats', type: 'integer', min: 0 },
        { name: 'plan', type: 'string', allowed: ['pro'] },
      ],
    });
    const issues = validateContract(columns, contract);
    expect(sortedEntries(issues.badRows)).toEqual([
      [0, 'seats: null in a required column'],
      [1, 'seats: -2 is below the minimum 0'],
    ]);
    expect(Object.fromEntries(issues.counts)).toEqual({
      'seats: null in a required column': 1,
      'seats: below minimum 0': 1,
      'plan: unknown category': 2,
      'customer_id: duplicate id': 1,
    });
  });

  it('reads multi-chunk columns row by row across chunks', () => {
    const seats = vectorFromArray([1, 2], new Int32()).concat(vectorFromArray([null, -1], new Int32()));
    const ids = vectorFromArray(['a', 'b'], dictType()).concat(vectorFromArray(['c', 'a'], dictType()));
    const issues = validateContract(
      cacheOf({ customer_id: ids, seats }),
      contractOf({ idColumn: 'customer_id', columns: [{ name: 'customer_id', type: 'string' }, { name: 'seats', type: 'integer', min: 0 }] }),
    );
    expect(sortedEntries(issues.badRows)).toEqual([
      [2, 'seats: null in a required column'],
      [3, 'seats: -1 is below the minimum 0'],
    ]);
    expect(issues.counts.get('customer_id: duplicate id')).toBe(1);
  });

  it('throws CONTRACT_VIOLATION for a missing column', () => {
    const columns = cacheOf({ customer_id: vectorFromArray(['a'], new Utf8()) });
    const contract = contractOf({ idColumn: 'customer_id', columns: [{ name: 'customer_id', type: 'string' }, { name: 'seats', type: 'integer' }] });
    expect(() => validateContract(columns, contract)).toThrow(ChurnError);
    expect(() => validateContract(columns, contract)).toThrow(expect.objectContaining({ code: 'CONTRACT_VIOLATION', details: { column: 'seats' } }));
  });
});

describe('missingColumns', () => {
  it('lists contract columns the schema lacks, in contract order, ignoring extra columns', () => {
    const schema = new Schema([new Field('customer_id', new Utf8()), new Field('extra', new Float64()), new Field('plan', new Utf8())]);
    const contract = contractOf({
      idColumn: 'customer_id',
      columns: [
        { name: 'seats', type: 'integer' },
        { name: 'customer_id', type: 'string' },
        { name: 'plan', type: 'string' },
        { name: 'mrr', type: 'number' },
      ],
    });
    expect(missingColumns(schema, contract)).toEqual(['seats', 'mrr']);
    expect(missingColumns(new Schema([new Field('seats', new Int32()), new Field('customer_id', new Utf8()), new Field('plan', new Utf8()), new Field('mrr', new Float64())]), contract)).toEqual([]);
  });
});

describe('eligibleMask', () => {
  const status = ['active', 'churned', null, 'trial', 'active'];

  it('is all ones without a rule', () => {
    const columns = cacheOf({ status: vectorFromArray(status, new Utf8()) });
    expect(Array.from(eligibleMask(columns, undefined))).toEqual([1, 1, 1, 1, 1]);
    expect(describeEligibility(undefined)).toBe('every row');
  });

  it('accepts rows whose value is in the rule, never null ones, for plain and dictionary columns', () => {
    const rule = eligibilitySchema.parse({ column: 'status', in: ['active', 'trial'] });
    for (const type of [new Utf8(), dictType()]) {
      const columns = cacheOf({ status: vectorFromArray(status, type) });
      expect(Array.from(eligibleMask(columns, rule))).toEqual([1, 0, 0, 1, 1]);
    }
    expect(describeEligibility(rule)).toBe('status in (active, trial)');
  });

  it('accepts nothing when no value matches, and refuses a missing column', () => {
    const columns = cacheOf({ status: vectorFromArray(status, new Utf8()) });
    expect(Array.from(eligibleMask(columns, { column: 'status', in: ['paused'] }))).toEqual([0, 0, 0, 0, 0]);
    expect(() => eligibleMask(columns, { column: 'state', in: ['active'] })).toThrow(expect.objectContaining({ code: 'CONTRACT_VIOLATION' }));
  });
});

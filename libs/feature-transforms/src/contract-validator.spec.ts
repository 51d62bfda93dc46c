import { Bool, Dictionary, Field, Float64, Int32, Int64, Schema, Table, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { ChurnError } from '@churn/errors';
import { eligibilitySchema, inputContractSchema, type BundleManifestInput, type InputContract } from '@churn/model-bundle';
import { ColumnCache } from './column-cache';
import { missingColumns, validateContract, type ContractIssues } from './contract-validator';
import { describeEligibility, eligibleMask } from './eligibility';

const dictType = () => new Dictionary(new Utf8(), new Int32());

function cacheOf(columns: Record<string, Vector>): ColumnCache {
  return new ColumnCache(new Table(columns));
}

function contractOf(input: BundleManifestInput['inputContract']): InputContract {
  return inputContractSchema.parse(input);
}

/** [row, code, detail] of every bad row, by row. */
function details(issues: ContractIssues): [number, string, string][] {
  return [...issues.badRows.entries()].sort((a, b) => a[0] - b[0]).map(([row, issue]) => [row, issue.code, issue.detail]);
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
    expect(details(issues)).toEqual([
      [1, 'null_required', 'seats: null in a required column'],
      [3, 'null_required', 'seats: null in a required column'],
    ]);
    // One primary code per row: row 1's region null is not counted again.
    expect(Object.fromEntries(issues.counts)).toEqual({ null_required: 2 });
    expect(Object.fromEntries(issues.byColumn)).toEqual({ 'seats: null_required': 2 });
  });

  it('reports NaN, infinities and range breaks with the value and the bound', () => {
    const columns = cacheOf({
      customer_id: vectorFromArray(['a', 'b', 'c', 'd', 'e', 'f', 'g'], new Utf8()),
      ratio: vectorFromArray([0.5, Number.NaN, Infinity, -Infinity, -0.25, 1.5, 1], new Float64()),
    });
    const contract = contractOf({ idColumn: 'customer_id', columns: [{ name: 'customer_id', type: 'string' }, { name: 'ratio', type: 'number', min: 0, max: 1 }] });
    const issues = validateContract(columns, contract);
    expect(details(issues)).toEqual([
      [1, 'not_finite', 'ratio: NaN is not a valid value'],
      [2, 'not_finite', 'ratio: Infinity is not a valid value'],
      [3, 'not_finite', 'ratio: -Infinity is not a valid value'],
      [4, 'below_min', 'ratio: -0.25 is below the minimum 0'],
      [5, 'above_max', 'ratio: 1.5 is above the maximum 1'],
    ]);
    expect(Object.fromEntries(issues.counts)).toEqual({ not_finite: 3, below_min: 1, above_max: 1 });
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
      customer_id: vectorFromArray(['a', 'b', 'c', 'd'], new Utf8()),
      events: vectorFromArray([5n, -1n, 10_000_000_000n, 6n], new Int64()),
      flag: vectorFromArray([true, null, false, null], new Bool()),
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
    expect(details(issues)).toEqual([
      [1, 'below_min', 'events: -1 is below the minimum 0'],
      [2, 'above_max', 'events: 10000000000 is above the maximum 1000000'],
      [3, 'null_required', 'flag: null in a required column'],
    ]);
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
      expect(details(issues)).toEqual([
        [1, 'unknown_category', 'plan: unknown category "gold" (allowed: free, pro)'],
        [4, 'unknown_category', 'plan: unknown category "gold" (allowed: free, pro)'],
      ]);
      expect(Object.fromEntries(issues.counts)).toEqual({ unknown_category: 2 });
    }
  });

  it('flags every row of a column whose Arrow type does not match, once per row', () => {
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
    for (const row of [0, 1, 2]) {
      expect(issues.badRows.get(row)).toEqual({ code: 'wrong_type', column: 'seats', detail: 'seats: has Arrow type Float64 where the contract expects integer' });
    }
    expect(Object.fromEntries(issues.counts)).toEqual({ wrong_type: 3 });
  });

  it('quarantines every copy of a duplicated id, naming the file rows', () => {
    const ids = ['a', 'b', 'a', null, 'c', 'b', 'a', null];
    for (const type of [new Utf8(), dictType()]) {
      const columns = cacheOf({ customer_id: vectorFromArray(ids, type) });
      const contract = contractOf({ idColumn: 'customer_id', columns: [{ name: 'customer_id', type: 'string' }] });
      const issues = validateContract(columns, contract, { rowOffset: 100 });
      const a = 'customer_id "a" appears on 3 rows of this file (rows 100, 102, 106); every copy is quarantined';
      const b = 'customer_id "b" appears on 2 rows of this file (rows 101, 105); every copy is quarantined';
      expect(details(issues)).toEqual([
        [0, 'duplicate_id', a],
        [1, 'duplicate_id', b],
        [2, 'duplicate_id', a],
        [3, 'null_required', 'customer_id: null in a required column'],
        [5, 'duplicate_id', b],
        [6, 'duplicate_id', a],
        [7, 'null_required', 'customer_id: null in a required column'],
      ]);
      expect(Object.fromEntries(issues.counts)).toEqual({ null_required: 2, duplicate_id: 5 });
    }
  });

  it('keeps duplicate ids when rejectDuplicateIds is off, and handles integer ids', () => {
    const columns = cacheOf({ account: vectorFromArray([7n, 8n, 7n], new Int64()) });
    const off = contractOf({ idColumn: 'account', rejectDuplicateIds: false, columns: [{ name: 'account', type: 'integer' }] });
    expect(validateContract(columns, off).badRows.size).toBe(0);
    const on = contractOf({ idColumn: 'account', columns: [{ name: 'account', type: 'integer' }] });
    expect(details(validateContract(columns, on)).map(([row, code]) => [row, code])).toEqual([
      [0, 'duplicate_id'],
      [2, 'duplicate_id'],
    ]);
  });

  it('keeps the first reason of a row (contract order); a copy that is bad otherwise is not a duplicate', () => {
    const columns = cacheOf({
      customer_id: vectorFromArray(['a', 'a', 'b', 'c', 'c'], new Utf8()),
      seats: vectorFromArray([null, -2, 1, 1, 1], new Int32()),
      plan: vectorFromArray(['gold', 'gold', 'pro', 'pro', 'pro'], new Utf8()),
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
    expect(details(issues).map(([row, code]) => [row, code])).toEqual([
      [0, 'null_required'],
      [1, 'below_min'],
      [3, 'duplicate_id'],
      [4, 'duplicate_id'],
    ]);
    expect(Object.fromEntries(issues.counts)).toEqual({ null_required: 1, below_min: 1, duplicate_id: 2 });
    expect([...issues.counts.values()].reduce((a, b) => a + b, 0)).toBe(issues.badRows.size);
  });

  it('reads multi-chunk columns row by row across chunks', () => {
    const seats = vectorFromArray([1, 2], new Int32()).concat(vectorFromArray([null, -1], new Int32()));
    const ids = vectorFromArray(['a', 'b'], dictType()).concat(vectorFromArray(['c', 'a'], dictType()));
    const issues = validateContract(
      cacheOf({ customer_id: ids, seats }),
      contractOf({ idColumn: 'customer_id', columns: [{ name: 'customer_id', type: 'string' }, { name: 'seats', type: 'integer', min: 0 }] }),
    );
    // Row 3 ("a") is bad for its seats, so row 0 is the only valid "a": not a duplicate.
    expect(details(issues)).toEqual([
      [2, 'null_required', 'seats: null in a required column'],
      [3, 'below_min', 'seats: -1 is below the minimum 0'],
    ]);
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

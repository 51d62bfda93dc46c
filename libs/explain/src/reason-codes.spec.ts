import type { Player } from './players';
import { reasonRenderer, renderReason, topReasons } from './reason-codes';
import { rowKey, rowKeysOf } from './row-keys';

const players: Player[] = ['a', 'b', 'tenure', 'c', 'd'].map((id) => ({ id, features: [], actionable: id !== 'tenure' }));

describe('topReasons', () => {
  it('picks actionable players with the largest positive contributions, largest first, -1 where fewer', () => {
    const contributions = Float32Array.of(
      0.1, 0.3, 0.9, 0.2, -0.5, // tenure is largest but not actionable
      -0.1, 0, 0.4, 0.05, -0.2, // one positive actionable, zero does not count
      0.2, 0.1, 0, 0.2, 0.2, // ties keep player order
    );
    const top = topReasons(contributions, 3, players);
    expect(Array.from(top)).toEqual([1, 3, 0, 3, -1, -1, 0, 3, 4]);
    expect(Array.from(topReasons(contributions, 3, players, 1))).toEqual([1, 3, 0]);
    expect(Array.from(topReasons(contributions, 1, players, 5))).toEqual([1, 3, 0, -1, -1]);
    expect(topReasons(contributions, 0, players)).toHaveLength(0);
  });

  it('never offers NaN contributions', () => {
    expect(Array.from(topReasons(Float32Array.of(Number.NaN, 0.1, 0, 0, 0), 1, players, 2))).toEqual([1, -1]);
  });
});

describe('renderReason', () => {
  const values: Record<string, number | string | null> = {
    api_error_rate: 0.1432,
    small: 0.045,
    tiny: 0.0004,
    whole: 0.2,
    api_errors_30d: 43,
    api_calls_30d: 300,
    avg: 2.456,
    half: 2.5,
    seats: 3.7,
    plan: 'pro',
    numeric_text: '0.5',
    missing: null,
  };
  const lookup = (name: string) => values[name];

  it('renders values, percentages and integers', () => {
    expect(renderReason('API error rate {api_error_rate:pct} over 30 days ({api_errors_30d} errors in {api_calls_30d} calls)', lookup)).toBe(
      'API error rate 14% over 30 days (43 errors in 300 calls)',
    );
    expect(renderReason('{small:pct} {tiny:pct} {whole:pct}', lookup)).toBe('4.5% 0% 20%');
    expect(renderReason('{avg} {half} {seats:int} {plan} {numeric_text:pct}', lookup)).toBe('2.46 2.5 4 pro 50%');
  });

  it('renders "?" for unknown names, nulls and non-numbers under a number format, and never throws', () => {
    expect(renderReason('{nope} / {missing} / {plan:pct}', lookup)).toBe('? / ? / ?');
    expect(renderReason('{x}', () => Number.NaN)).toBe('?');
    expect(renderReason('{x}', () => { throw new Error('boom'); })).toBe('?');
    expect(renderReason('no placeholders {not closed', lookup)).toBe('no placeholders {not closed');
    expect(renderReason('{half:weird}', lookup)).toBe('2.5');
    expect(renderReason('{neg}', () => -0.001)).toBe('0');
  });
});

describe('reasonRenderer', () => {
  it('renders each row as renderReason does, resolving each placeholder once', () => {
    const rows: Record<string, number | string | null>[] = [
      { n: 3, rate: 0.1432, plan: 'pro' },
      { n: 2.456, rate: 0.045, plan: null },
      { n: -0, rate: Number.NaN, plan: 'free' },
      { n: 1e21, rate: 1, plan: '' },
      { n: 12345678.125, rate: -0.5, plan: 'team' },
    ];
    const template = '{n} seats, {rate:pct} errors, plan {plan}, {n:int} rounded, {gone}';
    const resolved: string[] = [];
    const render = reasonRenderer(template, (name) => {
      resolved.push(name);
      return (row) => rows[row]![name];
    });
    rows.forEach((values, row) => expect(render(row)).toBe(renderReason(template, (name) => values[name])));
    expect(render(0)).toBe('3 seats, 14% errors, plan pro, 3 rounded, ?');
    expect(resolved).toEqual(['n', 'rate', 'plan', 'n', 'gone']);
    const failing = reasonRenderer('{a} and {b}', (name) => {
      if (name === 'a') throw new Error('no reader');
      return () => 1;
    });
    expect(failing(0)).toBe('? and 1');
  });
});

describe('rowKey', () => {
  it('is 32-bit FNV-1a over UTF-8 bytes', () => {
    expect(rowKey('')).toBe(0x811c9dc5);
    expect(rowKey('a')).toBe(0xe40c292c);
    expect(rowKey('foobar')).toBe(0xbf9cf968);
    // "é" is two UTF-8 bytes (0xc3 0xa9); an astral character four.
    expect(rowKey('é')).toBe(fnv([0xc3, 0xa9]));
    expect(rowKey('😀')).toBe(fnv([0xf0, 0x9f, 0x98, 0x80]));
    expect(Array.from(rowKeysOf(['a', 'foobar']))).toEqual([0xe40c292c, 0xbf9cf968]);
  });
});

function fnv(bytes: number[]): number {
  let hash = 0x811c9dc5;
  for (const b of bytes) hash = Math.imul(hash ^ b, 0x01000193);
  return hash >>> 0;
}

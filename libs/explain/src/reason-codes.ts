import type { Player } from './players';

/** Reasons per explained row in the score table (`reason_1` .. `reason_3`). */
export const DEFAULT_REASON_COUNT = 3;

/**
 * Per row, the indices of the `k` actionable players with the largest positive contributions
 * (the ones pushing risk up), largest first, ties broken by player order; -1 where fewer exist.
 * Non-actionable players (tenure, plan) are never reasons, whatever their contribution.
 * Returns rows x k, row-major.
 */
export function topReasons(contributions: Float32Array, rows: number, players: readonly Player[], k = DEFAULT_REASON_COUNT): Int32Array {
  const P = players.length;
  const out = new Int32Array(rows * k).fill(-1);
  if (k <= 0) return out;
  const candidates = Int32Array.from(players.flatMap((player, p) => (player.actionable ? [p] : [])));
  const best = new Float64Array(k);
  for (let row = 0; row < rows; row++) {
    const base = row * P;
    const at = row * k;
    let found = 0;
    // Insertion into a k-long sorted list: k is tiny (3), and strict '>' keeps earlier players first on ties.
    for (let c = 0; c < candidates.length; c++) {
      const p = candidates[c]!;
      const v = contributions[base + p]!;
      if (!(v > 0)) continue;
      if (found === k && v <= best[k - 1]!) continue;
      let slot = found < k ? found++ : k - 1;
      while (slot > 0 && v > best[slot - 1]!) {
        best[slot] = best[slot - 1]!;
        out[at + slot] = out[at + slot - 1]!;
        slot--;
      }
      best[slot] = v;
      out[at + slot] = p;
    }
  }
  return out;
}

function trimNumber(value: number, decimals: number): string {
  const text = value.toFixed(decimals);
  let end = text.length;
  if (text.includes('.')) {
    while (text.charCodeAt(end - 1) === 48) end--;
    if (text.charCodeAt(end - 1) === 46) end--;
  }
  const trimmed = end === text.length ? text : text.slice(0, end);
  return trimmed === '-0' ? '0' : trimmed;
}

/** Plain numbers: at most 2 decimals, no trailing zeros (3 -> "3", 2.5 -> "2.5", 0.1234 -> "0.12"). */
function formatNumber(value: number): string {
  // Counts are the common case: an integer prints as itself (what toFixed and trimming give).
  if (Number.isSafeInteger(value)) return String(value);
  return trimNumber(value, 2);
}

/** Shares as percentages: whole percent from 10% up (0.1432 -> "14%"), one decimal below (0.045 -> "4.5%"). */
function formatPercent(value: number): string {
  const percent = value * 100;
  return `${trimNumber(percent, Math.abs(percent) < 10 ? 1 : 0)}%`;
}

function asNumber(value: number | string): number | undefined {
  const number = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  return Number.isFinite(number) ? number : undefined;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?\}/g;

/** A value a reason template reads: a customer's raw column or a feature's readable value. */
export type ReasonValue = number | string | null | undefined;

/**
 * Renders a reason template with a customer's values: `{name}` is `lookup(name)`, `{name:pct}` a
 * percentage (0.1432 -> "14%", below 10% one decimal: "4.5%"), `{name:int}` a rounded integer;
 * numbers print without trailing zeros (at most 2 decimals). A name the lookup does not know (or
 * null, NaN, a non-numeric string under a number format) renders as "?": a reason text must never
 * fail a shard. Unknown formats render the value plainly.
 */
export function renderReason(template: string, lookup: (name: string) => ReasonValue): string {
  return reasonRenderer(template, (name) => () => lookup(name))(0);
}

/**
 * `renderReason` for many rows: the template's placeholders are resolved to per-row readers
 * once (`readerOf(name)`), so rendering a row is a read and a format per placeholder. Same
 * output as renderReason with `lookup(name) = readerOf(name)(row)`; a reader that cannot be made
 * or that throws renders "?".
 */
export function reasonRenderer(template: string, readerOf: (name: string) => (row: number) => ReasonValue): (row: number) => string {
  const parts = compiled(template);
  const head = parts[0] as string;
  const slots: { format: string | undefined; read: (row: number) => ReasonValue; tail: string }[] = [];
  for (let k = 1; k < parts.length; k += 2) {
    const { name, format } = parts[k] as Placeholder;
    let read: (row: number) => ReasonValue;
    try {
      read = readerOf(name);
    } catch {
      read = () => undefined;
    }
    slots.push({ format, read, tail: parts[k + 1] as string });
  }
  return (row) => {
    let out = head;
    for (const slot of slots) {
      let value: ReasonValue;
      try {
        value = slot.read(row);
      } catch {
        value = undefined;
      }
      out += formatValue(value, slot.format) + slot.tail;
    }
    return out;
  };
}

interface Placeholder {
  name: string;
  format: string | undefined;
}

/** A template split once into text, placeholder, text, ... (reason texts render per explained row). */
const templates = new Map<string, readonly (string | Placeholder)[]>();

function compiled(template: string): readonly (string | Placeholder)[] {
  let parts = templates.get(template);
  if (parts) return parts;
  const list: (string | Placeholder)[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    list.push(template.slice(last, m.index), { name: m[1]!, format: m[2] });
    last = m.index + m[0].length;
  }
  list.push(template.slice(last));
  parts = list;
  if (templates.size < 10_000) templates.set(template, parts);
  return parts;
}

function formatValue(value: ReasonValue, format: string | undefined): string {
  if (value === null || value === undefined) return '?';
  if (format === 'pct' || format === 'int') {
    const number = asNumber(value);
    if (number === undefined) return '?';
    return format === 'pct' ? formatPercent(number) : trimNumber(Math.round(number), 0);
  }
  if (typeof value === 'string') return value;
  return Number.isFinite(value) ? formatNumber(value) : '?';
}

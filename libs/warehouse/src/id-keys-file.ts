import { ChurnError } from '@churn/errors';

/** Kind of a contract-valid row in a shard's id-keys file. */
export const ID_ROW_KINDS = ['scored', 'ineligible'] as const;
export type IdRowKind = (typeof ID_ROW_KINDS)[number];

/**
 * One shard's customer-id keys, written beside its staged part so the commit can find ids that
 * appear in more than one shard: for every contract-valid row (scored or ineligible), the 53-bit
 * key of its id, its row within the shard, and its kind.
 */
export interface IdKeys {
  keys: Float64Array;
  /** Row within the shard's table (ascending). */
  rows: Uint32Array;
  /** Index into ID_ROW_KINDS. */
  kinds: Uint8Array;
}

const MAGIC = 'CHID1\n';

export function encodeIdKeys(ids: IdKeys): Uint8Array {
  const n = ids.keys.length;
  const header = new TextEncoder().encode(MAGIC);
  const out = new Uint8Array(8 + 4 + n * 13);
  out.set(header, 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, n, true);
  new Uint8Array(out.buffer, 12, n * 8).set(new Uint8Array(ids.keys.buffer, ids.keys.byteOffset, n * 8));
  new Uint8Array(out.buffer, 12 + n * 8, n * 4).set(new Uint8Array(ids.rows.buffer, ids.rows.byteOffset, n * 4));
  out.set(ids.kinds.subarray(0, n), 12 + n * 12);
  return out;
}

export function decodeIdKeys(bytes: Uint8Array, uri: string): IdKeys {
  const header = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
  if (header !== MAGIC || bytes.length < 12) throw new ChurnError('COMMIT_FAILED', `${uri} is not a shard id-keys file; score the run again`, { details: { uri } });
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  if (bytes.length !== 12 + n * 13) throw new ChurnError('COMMIT_FAILED', `${uri} is truncated (${bytes.length} bytes for ${n} ids); score the run again`, { details: { uri } });
  const copy = (offset: number, length: number) => bytes.slice(offset, offset + length).buffer;
  return {
    keys: new Float64Array(copy(12, n * 8)),
    rows: new Uint32Array(copy(12 + n * 8, n * 4)),
    kinds: bytes.slice(12 + n * 12, 12 + n * 13),
  };
}

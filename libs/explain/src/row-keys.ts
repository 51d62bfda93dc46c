/**
 * A stable 32-bit key per id string: FNV-1a over the id's UTF-8 bytes. Sampling seeds each row's
 * permutations from (seed, key), so a customer gets the same explanation whichever shard, batch
 * or worker it lands in.
 */
export function rowKey(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    let code = id.charCodeAt(i);
    // Combine a surrogate pair into its code point so the bytes are the id's real UTF-8.
    if (code >= 0xd800 && code < 0xdc00 && i + 1 < id.length) {
      const low = id.charCodeAt(i + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (code < 0x80) {
      hash = Math.imul(hash ^ code, 0x01000193);
    } else if (code < 0x800) {
      hash = Math.imul(hash ^ (0xc0 | (code >> 6)), 0x01000193);
      hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), 0x01000193);
    } else if (code < 0x10000) {
      hash = Math.imul(hash ^ (0xe0 | (code >> 12)), 0x01000193);
      hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), 0x01000193);
      hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), 0x01000193);
    } else {
      hash = Math.imul(hash ^ (0xf0 | (code >> 18)), 0x01000193);
      hash = Math.imul(hash ^ (0x80 | ((code >> 12) & 0x3f)), 0x01000193);
      hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), 0x01000193);
      hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), 0x01000193);
    }
  }
  return hash >>> 0;
}

/** Keys for many ids at once (`rowKey` of each). */
export function rowKeysOf(ids: ArrayLike<string>): Uint32Array {
  const keys = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) keys[i] = rowKey(ids[i]!);
  return keys;
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The PRNG seed of one row: a mix of the run's seed (all 53 integer bits) and the row key, so
 * neighbouring keys or seeds still start unrelated streams.
 */
export function rowSeed(seed: number, key: number): number {
  const low = seed >>> 0;
  const high = Math.floor(seed / 4294967296) >>> 0;
  return fmix32(fmix32(key ^ 0x9e3779b9) ^ fmix32(low + 0x7f4a7c15) ^ Math.imul(fmix32(high), 0x27d4eb2f));
}

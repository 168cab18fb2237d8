// Arrow validity bitmaps as ColumnData carries them: bit i set (least significant bit
// first) where value i is present, and no bitmap at all when no value is null.

export const isPresent = (valid: Uint8Array | undefined, i: number): boolean => !valid || (valid[i >> 3]! & (1 << (i & 7))) !== 0;

/** A bitmap of `length` values, all present. */
export const allPresent = (length: number): Uint8Array => new Uint8Array(Math.ceil(length / 8)).fill(0xff);

export function setAbsent(valid: Uint8Array, i: number): void {
  valid[i >> 3]! &= ~(1 << (i & 7));
}

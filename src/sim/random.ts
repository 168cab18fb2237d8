// Stateless hashing and a small seeded generator. The simulated markets are pure functions
// of (seed, symbol, time): every minute draws from its own generator seeded by a hash, so
// any minute can be computed without replaying the ones before it.

/** murmur3's 32-bit finalizer: a cheap, well-spread mix of one 32-bit word. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of two 32-bit words (order matters). Values above 2^32 are folded in. */
export function hash2(a: number, b: number): number {
  const hi = Math.floor(b / 0x1_0000_0000);
  return mix32(mix32(a ^ 0x9e3779b9) ^ (b >>> 0) ^ Math.imul(hi, 0x27d4eb2d));
}

/** Hash of three words. */
export function hash3(a: number, b: number, c: number): number {
  return hash2(hash2(a, b), c);
}

/** FNV-1a over the UTF-16 code units of a string, mixed. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** A uniform double in [0, 1) from a 32-bit hash. */
export function unit(h: number): number {
  return h / 0x1_0000_0000;
}

/** mulberry32: a tiny generator with a 32-bit state, plenty for synthetic market data. */
export class Mulberry32 {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Next raw 32-bit value. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform double in [0, 1). */
  next(): number {
    return this.nextU32() / 0x1_0000_0000;
  }
}

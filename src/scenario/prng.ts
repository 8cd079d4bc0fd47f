// Seeded randomness for scenarios: every random choice of a scenario (jitter, `line: random`, the babble's
// syllables) comes from here, so the same seed gives the same meeting. No Math.random in scenario paths.

/** FNV-1a (32 bit) of a string: stable seeds derived from text. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A small, fast seeded generator (mulberry32): uniform floats in [0, 1). */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = (seed >>> 0) || 0x9e3779b9;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Float in [a, b). */
  range(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  /** A child generator for a named purpose: draws from it do not shift this one's sequence. */
  fork(label: string): Prng {
    return new Prng(hash32(label, this.state ^ 0x5bd1e995));
  }
}

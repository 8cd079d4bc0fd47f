// PCM helpers for the audio formats of spec §8: resampling between the protocol's rates, channel layout,
// byte order, G.711 companding and mixing. Everything works on whole tracks once; nothing here runs per frame.

/** Sample rates the protocol can ask for (spec §8). */
export type PcmRate = 8000 | 16000 | 32000 | 48000;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind, for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

interface PolyphaseFilter {
  up: number; // L: output samples per `down` input samples
  down: number; // M
  halfWidth: number; // taps each side, in input samples
  phases: Float64Array[]; // L phases, 2*halfWidth taps each
}

const filterCache = new Map<string, PolyphaseFilter>();

// Sinc zero crossings kept on each side of the centre (at the narrower of the two bands) and the Kaiser beta:
// together about 80 dB of stop-band rejection, plenty for 16-bit speech.
const SINC_ZEROS = 16;
const KAISER_BETA = 8;
// Pass band edge as a fraction of the lower Nyquist frequency; the rest is the transition band.
const PASS_FRACTION = 0.92;

function polyphaseFilter(fromRate: number, toRate: number): PolyphaseFilter {
  const key = `${fromRate}>${toRate}`;
  const cached = filterCache.get(key);
  if (cached) return cached;
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  if (up > 4096) throw new Error(`resample: ratio ${toRate}/${fromRate} needs too many filter phases`);
  // Cut off below the lower of the two Nyquist frequencies (anti-aliasing when going down, anti-imaging up).
  const scale = Math.min(1, up / down);
  const fc = 0.5 * scale * PASS_FRACTION; // cycles per input sample
  const halfWidth = Math.ceil(SINC_ZEROS / scale);
  const i0Beta = besselI0(KAISER_BETA);
  const phases: Float64Array[] = [];
  for (let p = 0; p < up; p++) {
    const frac = p / up;
    const taps = new Float64Array(2 * halfWidth);
    let sum = 0;
    for (let j = 0; j < taps.length; j++) {
      // Tap j weights input sample (base - halfWidth + 1 + j); x is its distance from the output position.
      const x = frac + halfWidth - 1 - j;
      const r = x / halfWidth;
      const w = Math.abs(r) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0Beta;
      const arg = 2 * fc * x;
      const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
      taps[j] = 2 * fc * sinc * w;
      sum += taps[j]!;
    }
    // Unity gain at DC for every phase, so a constant signal stays constant (no phase-dependent ripple).
    for (let j = 0; j < taps.length; j++) taps[j]! /= sum;
    phases.push(taps);
  }
  const filter = { up, down, halfWidth, phases };
  filterCache.set(key, filter);
  return filter;
}

export interface ResampleOptions {
  /** Treat the input as one period of a loop: the filter wraps around, so the output tiles seamlessly. */
  circular?: boolean;
}

/**
 * Resample mono s16 PCM with a Kaiser-windowed-sinc polyphase filter. Any integer rates work; the protocol's
 * 8/16/32/48 kHz give at most 6 phases. Output length is floor(n * to / from).
 */
export function resample(input: Int16Array, fromRate: number, toRate: number, options: ResampleOptions = {}): Int16Array {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) {
    throw new Error(`resample: rates must be positive integers (got ${fromRate} -> ${toRate})`);
  }
  if (fromRate === toRate) return input.slice();
  const { up, down, halfWidth, phases } = polyphaseFilter(fromRate, toRate);
  const n = input.length;
  const outLength = Math.floor((n * up) / down);
  const out = new Int16Array(outLength);
  if (n === 0) return out;
  // Pad once so the inner loop needs no bounds checks: zeros, or the wrapped-around loop.
  const padded = new Float64Array(n + 2 * halfWidth);
  for (let i = 0; i < padded.length; i++) {
    const src = i - halfWidth;
    if (src >= 0 && src < n) padded[i] = input[src]!;
    else if (options.circular) padded[i] = input[((src % n) + n) % n]!;
  }
  for (let k = 0; k < outLength; k++) {
    const pos = k * down;
    const base = Math.floor(pos / up);
    const taps = phases[pos - base * up]!;
    // padded index of input (base - halfWidth + 1) is base + 1.
    let acc = 0;
    let idx = base + 1;
    for (let j = 0; j < taps.length; j++, idx++) acc += taps[j]! * padded[idx]!;
    const v = Math.round(acc);
    out[k] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** Mono to interleaved stereo (both channels carry the same signal). */
export function monoToStereo(mono: Int16Array): Int16Array {
  const out = new Int16Array(mono.length * 2);
  for (let i = 0; i < mono.length; i++) {
    const s = mono[i]!;
    out[2 * i] = s;
    out[2 * i + 1] = s;
  }
  return out;
}

/** Interleaved stereo to mono (average of the two channels). */
export function stereoToMono(stereo: Int16Array): Int16Array {
  const out = new Int16Array(stereo.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = (stereo[2 * i]! + stereo[2 * i + 1]!) >> 1;
  return out;
}

/** s16 samples as little-endian bytes (L16 on the wire is little-endian, spec §8). Views when the host is LE. */
export function int16ToLeBytes(samples: Int16Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(2 * i, samples[i]!, true);
  return out;
}

/** Little-endian s16 bytes to samples (always a copy, so odd byte offsets are fine). */
export function leBytesToInt16(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0) throw new Error(`leBytesToInt16: odd byte length ${bytes.length}`);
  const out = new Int16Array(bytes.length / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true);
  return out;
}

// ---- G.711 (ITU-T G.711). The protocol's "G711" is µ-law (PCMU); A-law is here for completeness. ----

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

/** One s16 sample to a µ-law byte. */
export function linearToMulaw(sample: number): number {
  let s = sample | 0;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > MULAW_CLIP) s = MULAW_CLIP;
  s += MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** One µ-law byte to an s16 sample. */
export function mulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

/** One s16 sample to an A-law byte. */
export function linearToAlaw(sample: number): number {
  let s = sample | 0;
  // A-law sets the sign bit for non-negative values; even bits are inverted (the 0x55 mask).
  const mask = s >= 0 ? 0xd5 : 0x55;
  if (s < 0) s = -s - 1;
  s >>= 3; // 13-bit magnitude
  let segment = 0;
  while (segment < 8 && s > (0x20 << segment) - 1) segment++; // segment ends: 31, 63, 127 ... 4095
  if (segment >= 8) return 0x7f ^ mask;
  const mantissa = segment < 2 ? (s >> 1) & 0x0f : (s >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

/** One A-law byte to an s16 sample. */
export function alawToLinear(code: number): number {
  const a = (code ^ 0x55) & 0xff;
  const segment = (a >> 4) & 0x07;
  let magnitude = ((a & 0x0f) << 4) + 8;
  if (segment > 0) magnitude = (magnitude + 0x100) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

export function encodeMulaw(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToMulaw(samples[i]!);
  return out;
}

export function decodeMulaw(codes: Uint8Array): Int16Array {
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = mulawToLinear(codes[i]!);
  return out;
}

export function encodeAlaw(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToAlaw(samples[i]!);
  return out;
}

export function decodeAlaw(codes: Uint8Array): Int16Array {
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = alawToLinear(codes[i]!);
  return out;
}

// ---- Mixing and measurement ----

export interface PlacedClip {
  samples: Int16Array;
  /** Where the clip starts in the output, in samples. */
  offset: number;
}

/**
 * Overlay clips into a track of `length` samples. Overlapping speech can exceed full scale, so if the sum peaks
 * above it the whole track is scaled down once (a single gain keeps every clip's shape and alignment).
 */
export function mixClips(length: number, clips: readonly PlacedClip[]): Int16Array {
  const sum = new Int32Array(length);
  for (const { samples, offset } of clips) {
    if (!Number.isInteger(offset) || offset < 0 || offset + samples.length > length) {
      throw new Error(`mixClips: clip [${offset}, ${offset + samples.length}) does not fit a ${length}-sample track`);
    }
    for (let i = 0; i < samples.length; i++) sum[offset + i]! += samples[i]!;
  }
  let peak = 0;
  for (let i = 0; i < length; i++) {
    const a = Math.abs(sum[i]!);
    if (a > peak) peak = a;
  }
  const out = new Int16Array(length);
  if (peak <= 32767) {
    out.set(sum);
  } else {
    const gain = 32767 / peak;
    for (let i = 0; i < length; i++) out[i] = Math.round(sum[i]! * gain);
  }
  return out;
}

/** Root-mean-square level of s16 samples (0 for an empty range). */
export function rms(samples: Int16Array, start = 0, end = samples.length): number {
  if (end <= start) return 0;
  let acc = 0;
  for (let i = start; i < end; i++) acc += samples[i]! * samples[i]!;
  return Math.sqrt(acc / (end - start));
}

/** Rotate a loop left by `shift` samples (negative shifts rotate right). */
export function rotate(samples: Int16Array, shift: number): Int16Array {
  const n = samples.length;
  const out = new Int16Array(n);
  if (n === 0) return out;
  const s = ((shift % n) + n) % n;
  out.set(samples.subarray(s), 0);
  out.set(samples.subarray(0, s), n - s);
  return out;
}

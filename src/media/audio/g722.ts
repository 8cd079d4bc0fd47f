// ITU-T G.722 sub-band ADPCM at 64 kbit/s (mode 1), written from the Recommendation's description: a 24-tap
// QMF splits 16 kHz audio into two 8 kHz sub-bands; the lower band is coded with 6 bits (adaptive quantizer,
// pole-zero predictor), the higher band with 2 bits; one byte per pair of input samples (high bits 7-6, low
// bits 5-0). Encoder and decoder keep state across calls, so a live stream is coded in consecutive chunks
// (spec §8: G722 16 kHz mono). Used for live sources; the synthetic tracks are pre-encoded.

/** QMF coefficients h0, h2, ..., h22 (the odd taps are the same values reversed). */
const QMF = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11] as const;

/** Lower-band decision levels (6-bit quantizer), scaled by the step size. */
const Q6 = [0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219,
  1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919] as const;
/** Lower-band codes for quantizer interval 1..30, negative and non-negative difference. */
const ILN = [0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6,
  5, 4] as const;
const ILP = [0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35,
  34, 33, 32] as const;
/** Inverse quantizers: 4-bit (predictor update), 6-bit (lower-band output), 2-bit (higher band). */
const QM4 = [0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0] as const;
const QM6 = [-136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576,
  -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
  24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464,
  4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136] as const;
const QM2 = [-7408, -1616, 7408, 1616] as const;
/** Log scale factor multipliers and the code → multiplier index maps. */
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042] as const;
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0] as const;
const WH = [0, -214, 798] as const;
const RH2 = [2, 1, 2, 1] as const;
/** Inverse log base 2 table for the scale factor. */
const ILB = [2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960,
  3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008] as const;

function sat(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/** Adaptive predictor and scale factor state of one sub-band. */
class Band {
  s = 0; // signal estimate
  sp = 0; // pole section output
  sz = 0; // zero section output
  r = [0, 0, 0]; // reconstructed signal, r[1] = previous
  a = [0, 0, 0]; // pole coefficients a1, a2
  ap = [0, 0, 0];
  p = [0, 0, 0]; // partially reconstructed signal
  d = [0, 0, 0, 0, 0, 0, 0]; // quantized differences
  b = [0, 0, 0, 0, 0, 0, 0]; // zero coefficients b1..b6
  bp = [0, 0, 0, 0, 0, 0, 0];
  nb = 0; // log scale factor
  det: number;

  constructor(det: number) {
    this.det = det;
  }

  /** Predictor update with quantized difference `dq` (RECONS, PARREC, UPPOL2, UPPOL1, UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC). */
  update(dq: number): void {
    const { r, a, ap, p, d, b, bp } = this;
    d[0] = dq;
    r[0] = sat(this.s + dq);
    p[0] = sat(this.sz + dq);
    // Second pole coefficient.
    const s0 = p[0]! >> 15;
    const s1 = p[1]! >> 15;
    const s2 = p[2]! >> 15;
    const w1 = sat(a[1]! * 4);
    let w2 = s0 === s1 ? -w1 : w1;
    if (w2 > 32767) w2 = 32767;
    let w3 = (s0 === s2 ? 128 : -128) + (w2 >> 7) + ((a[2]! * 32512) >> 15);
    if (w3 > 12288) w3 = 12288; else if (w3 < -12288) w3 = -12288;
    ap[2] = w3;
    // First pole coefficient, limited by the second.
    let a1 = sat((s0 === s1 ? 192 : -192) + ((a[1]! * 32640) >> 15));
    const lim = sat(15360 - ap[2]!);
    if (a1 > lim) a1 = lim; else if (a1 < -lim) a1 = -lim;
    ap[1] = a1;
    // Zero coefficients.
    const step = dq === 0 ? 0 : 128;
    const sd = dq >> 15;
    for (let i = 1; i < 7; i++) {
      const si = d[i]! >> 15;
      bp[i] = sat((si === sd ? step : -step) + ((b[i]! * 32640) >> 15));
    }
    // Delay lines.
    for (let i = 6; i > 0; i--) { d[i] = d[i - 1]!; b[i] = bp[i]!; }
    for (let i = 2; i > 0; i--) { r[i] = r[i - 1]!; p[i] = p[i - 1]!; a[i] = ap[i]!; }
    // Pole and zero predictor outputs.
    const wp1 = (a[1]! * sat(r[1]! + r[1]!)) >> 15;
    const wp2 = (a[2]! * sat(r[2]! + r[2]!)) >> 15;
    this.sp = sat(wp1 + wp2);
    let sz = 0;
    for (let i = 6; i > 0; i--) sz += (b[i]! * sat(d[i]! + d[i]!)) >> 15;
    this.sz = sat(sz);
    this.s = sat(this.sp + this.sz);
  }
}

/** Scale factor from the log scale factor (SCALEL shift 8, SCALEH shift 10). */
function scale(nb: number, shift: number): number {
  const w1 = (nb >> 6) & 31;
  const w2 = shift - (nb >> 11);
  const w3 = w2 < 0 ? ILB[w1]! << -w2 : ILB[w1]! >> w2;
  return w3 << 2;
}

function adaptLow(band: Band, code: number): number {
  const ril = code >> 2;
  const dq = (band.det * QM4[ril]!) >> 15;
  let nb = ((band.nb * 127) >> 7) + WL[RL42[ril]!]!;
  if (nb < 0) nb = 0; else if (nb > 18432) nb = 18432;
  band.nb = nb;
  band.det = scale(nb, 8);
  band.update(dq);
  return dq;
}

function adaptHigh(band: Band, code: number): number {
  const dq = (band.det * QM2[code]!) >> 15;
  let nb = ((band.nb * 127) >> 7) + WH[RH2[code]!]!;
  if (nb < 0) nb = 0; else if (nb > 22528) nb = 22528;
  band.nb = nb;
  band.det = scale(nb, 10);
  band.update(dq);
  return dq;
}

export class G722Encoder {
  private readonly low = new Band(32);
  private readonly high = new Band(8);
  /** QMF delay line: the last 24 input samples, oldest first. */
  private readonly x = new Int32Array(24);
  /** An odd sample left over from the previous call. */
  private pending: number | null = null;

  /** Encodes 16 kHz s16 samples; returns one byte per two samples (an odd last sample waits for the next call). */
  encode(samples: Int16Array): Uint8Array {
    const total = samples.length + (this.pending === null ? 0 : 1);
    const out = new Uint8Array(total >> 1);
    const x = this.x;
    let j = 0;
    let o = 0;
    const next = (): number => {
      if (this.pending !== null) { const v = this.pending; this.pending = null; return v; }
      return samples[j++]!;
    };
    while (o < out.length) {
      x.copyWithin(0, 2);
      x[22] = next();
      x[23] = next();
      // Transmit QMF: even and odd polyphase sums give the two sub-bands (15-bit signals).
      let sumOdd = 0;
      let sumEven = 0;
      for (let i = 0; i < 12; i++) {
        sumOdd += x[2 * i]! * QMF[i]!;
        sumEven += x[2 * i + 1]! * QMF[11 - i]!;
      }
      const xl = (sumEven + sumOdd) >> 14;
      const xh = (sumEven - sumOdd) >> 14;

      // Lower band: 6-bit adaptive quantizer.
      const el = sat(xl - this.low.s);
      const wd = el >= 0 ? el : -(el + 1);
      let i = 1;
      for (; i < 30; i++) if (wd < (Q6[i]! * this.low.det) >> 12) break;
      const il = el < 0 ? ILN[i]! : ILP[i]!;
      adaptLow(this.low, il);

      // Higher band: 2-bit quantizer.
      const eh = sat(xh - this.high.s);
      const wh = eh >= 0 ? eh : -(eh + 1);
      const mih = wh >= (564 * this.high.det) >> 12 ? 2 : 1;
      const ih = eh < 0 ? (mih === 2 ? 0 : 1) : (mih === 2 ? 2 : 3);
      adaptHigh(this.high, ih);

      out[o++] = (ih << 6) | il;
    }
    if (j < samples.length) this.pending = samples[j]!;
    return out;
  }
}

export class G722Decoder {
  private readonly low = new Band(32);
  private readonly high = new Band(8);
  private readonly x = new Int32Array(24);

  /** Decodes G.722 bytes to 16 kHz s16 samples (two per byte). */
  decode(bytes: Uint8Array): Int16Array {
    const out = new Int16Array(bytes.length * 2);
    const x = this.x;
    for (let k = 0; k < bytes.length; k++) {
      const code = bytes[k]!;
      const il = code & 0x3f;
      const ih = code >> 6;
      // Lower band output uses the full 6-bit inverse quantizer; the predictor the 4-bit one.
      const dl6 = (this.low.det * QM6[il]!) >> 15;
      let rl = this.low.s + dl6;
      if (rl > 16383) rl = 16383; else if (rl < -16384) rl = -16384;
      adaptLow(this.low, il);
      const sh = this.high.s;
      let rh = sh + adaptHigh(this.high, ih);
      if (rh > 16383) rh = 16383; else if (rh < -16384) rh = -16384;
      // Receive QMF.
      x.copyWithin(0, 2);
      x[22] = rl + rh;
      x[23] = rl - rh;
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < 12; i++) {
        s2 += x[2 * i]! * QMF[i]!;
        s1 += x[2 * i + 1]! * QMF[11 - i]!;
      }
      out[2 * k] = sat(s1 >> 11);
      out[2 * k + 1] = sat(s2 >> 11);
    }
    return out;
  }
}

/** One-shot helpers (fresh state). */
export function encodeG722(samples: Int16Array): Uint8Array {
  return new G722Encoder().encode(samples);
}
export function decodeG722(bytes: Uint8Array): Int16Array {
  return new G722Decoder().decode(bytes);
}

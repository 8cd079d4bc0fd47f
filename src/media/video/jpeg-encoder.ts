// Baseline JPEG encoder (ITU-T T.81 sequential DCT, Huffman) in a JFIF wrapper, YCbCr 4:2:0, written from the
// specification. Used for the JPG video/share codec (spec §8: each JPG message is one whole image).
// Speed matters: loops are rendered on first use, so the hot path is typed arrays, a float AAN DCT with the
// AAN output scaling folded into the quantiser, and precomputed Huffman code tables.

export interface JpegOptions {
  /** 1-100, IJG-style scaling of the T.81 Annex K tables. Default 75. */
  quality?: number;
  /** Bytes per input pixel: 3 (RGB) or 4 (RGBA, alpha ignored). Default 3. */
  channels?: 3 | 4;
}

/** T.81 Annex K.1, Table K.1: luminance quantisation table, natural (row-major) order. */
const BASE_LUMA_Q: readonly number[] = [
  16, 11, 10, 16, 24, 40, 51, 61,
  12, 12, 14, 19, 26, 58, 60, 55,
  14, 13, 16, 24, 40, 57, 69, 56,
  14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77,
  24, 35, 55, 64, 81, 104, 113, 92,
  49, 64, 78, 87, 103, 121, 120, 101,
  72, 92, 95, 98, 112, 100, 103, 99,
];

/** T.81 Annex K.1, Table K.2: chrominance quantisation table, natural order. */
const BASE_CHROMA_Q: readonly number[] = [
  17, 18, 24, 47, 99, 99, 99, 99,
  18, 21, 26, 66, 99, 99, 99, 99,
  24, 26, 56, 99, 99, 99, 99, 99,
  47, 66, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99,
];

// T.81 Annex K.3: the typical Huffman tables. BITS[i] = number of codes of length i+1; VALS in code order.
const DC_LUMA_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_LUMA_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const DC_CHROMA_BITS = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_CHROMA_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_LUMA_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_LUMA_VALS = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
  0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
  0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
  0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
  0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
  0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
  0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
  0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
  0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
  0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
  0xf9, 0xfa,
];
const AC_CHROMA_BITS = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const AC_CHROMA_VALS = [
  0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
  0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
  0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
  0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
  0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
  0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
  0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
  0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
  0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
  0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
  0xf9, 0xfa,
];

/** ZIGZAG[k] = natural index of the k-th coefficient in zig-zag order (T.81 Figure 5). */
export const ZIGZAG: Uint8Array = (() => {
  const z = new Uint8Array(64);
  let k = 0;
  for (let s = 0; s < 15; s++) {
    const lo = Math.max(0, s - 7);
    const hi = Math.min(7, s);
    // Odd anti-diagonals run down-left (row increasing), even ones up-right.
    if (s % 2 === 1) for (let r = lo; r <= hi; r++) z[k++] = r * 8 + (s - r);
    else for (let r = hi; r >= lo; r--) z[k++] = r * 8 + (s - r);
  }
  return z;
})();

interface HuffTable {
  /** Code per symbol (0..255), valid where len > 0. */
  code: Uint16Array;
  len: Uint8Array;
  bits: readonly number[];
  vals: readonly number[];
}

/** Canonical code assignment from BITS/HUFFVAL (T.81 Annex C). */
function buildHuffman(bits: readonly number[], vals: readonly number[]): HuffTable {
  const code = new Uint16Array(256);
  const len = new Uint8Array(256);
  let c = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = bits[l - 1] ?? 0;
    for (let i = 0; i < n; i++) {
      const sym = vals[k++] ?? 0;
      code[sym] = c++;
      len[sym] = l;
    }
    c <<= 1;
  }
  return { code, len, bits, vals };
}

const HUFF_DC_LUMA = buildHuffman(DC_LUMA_BITS, DC_LUMA_VALS);
const HUFF_AC_LUMA = buildHuffman(AC_LUMA_BITS, AC_LUMA_VALS);
const HUFF_DC_CHROMA = buildHuffman(DC_CHROMA_BITS, DC_CHROMA_VALS);
const HUFF_AC_CHROMA = buildHuffman(AC_CHROMA_BITS, AC_CHROMA_VALS);

/** AAN output scale per frequency: 1 for k=0, cos(kπ/16)·√2 otherwise. */
const AAN_SCALE: Float64Array = (() => {
  const a = new Float64Array(8);
  a[0] = 1;
  for (let k = 1; k < 8; k++) a[k] = Math.cos((k * Math.PI) / 16) * Math.SQRT2;
  return a;
})();

interface QuantTables {
  /** Quantiser values in natural order (what DQT carries, after zig-zag reordering). */
  lumaQ: Uint8Array;
  chromaQ: Uint8Array;
  /** 1 / (q · aan[u] · aan[v] · 8) in natural order: AAN scaling and quantisation in one multiply. */
  lumaDiv: Float64Array;
  chromaDiv: Float64Array;
}

const quantCache = new Map<number, QuantTables>();

function quantTables(quality: number): QuantTables {
  const cached = quantCache.get(quality);
  if (cached) return cached;
  // IJG convention: 50 = the Annex K tables, 100 = all ones.
  const scale = quality < 50 ? 5000 / quality : 200 - quality * 2;
  const make = (base: readonly number[]) => {
    const q = new Uint8Array(64);
    const div = new Float64Array(64);
    for (let i = 0; i < 64; i++) {
      const v = Math.min(255, Math.max(1, Math.floor(((base[i] ?? 1) * scale + 50) / 100)));
      q[i] = v;
      div[i] = 1 / (v * (AAN_SCALE[i >> 3] ?? 1) * (AAN_SCALE[i & 7] ?? 1) * 8);
    }
    return { q, div };
  };
  const l = make(BASE_LUMA_Q);
  const c = make(BASE_CHROMA_Q);
  const t: QuantTables = { lumaQ: l.q, chromaQ: c.q, lumaDiv: l.div, chromaDiv: c.div };
  quantCache.set(quality, t);
  return t;
}

const C4 = 0.707106781186547524; // cos(4π/16)
const C6S = 0.382683432365089772; // cos(6π/16)
const C2MC6 = 0.541196100146196984; // cos(2π/16) − cos(6π/16)
const C2PC6 = 1.306562964876376527; // cos(2π/16) + cos(6π/16)

/**
 * In-place 2-D forward DCT of an 8×8 block (Arai-Agui-Nakajima factorisation: 5 multiplies per 1-D pass).
 * Output coefficient (u, v) is the T.81 F(u, v) times 8·AAN_SCALE[u]·AAN_SCALE[v]; quantTables() undoes it.
 */
export function fdctAan(d: Float64Array): void {
  for (let pass = 0; pass < 2; pass++) {
    // Pass 0: rows (elements 1 apart, rows 8 apart); pass 1: columns.
    const step = pass === 0 ? 1 : 8;
    const next = pass === 0 ? 8 : 1;
    for (let i = 0, p = 0; i < 8; i++, p += next) {
      const d0 = d[p]!, d1 = d[p + step]!, d2 = d[p + 2 * step]!, d3 = d[p + 3 * step]!;
      const d4 = d[p + 4 * step]!, d5 = d[p + 5 * step]!, d6 = d[p + 6 * step]!, d7 = d[p + 7 * step]!;
      const t0 = d0 + d7, t7 = d0 - d7;
      const t1 = d1 + d6, t6 = d1 - d6;
      const t2 = d2 + d5, t5 = d2 - d5;
      const t3 = d3 + d4, t4 = d3 - d4;
      // Even part.
      const t10 = t0 + t3, t13 = t0 - t3;
      const t11 = t1 + t2, t12 = t1 - t2;
      d[p] = t10 + t11;
      d[p + 4 * step] = t10 - t11;
      const z1 = (t12 + t13) * C4;
      d[p + 2 * step] = t13 + z1;
      d[p + 6 * step] = t13 - z1;
      // Odd part.
      const o10 = t4 + t5, o11 = t5 + t6, o12 = t6 + t7;
      const z5 = (o10 - o12) * C6S;
      const z2 = C2MC6 * o10 + z5;
      const z4 = C2PC6 * o12 + z5;
      const z3 = o11 * C4;
      const z11 = t7 + z3, z13 = t7 - z3;
      d[p + 5 * step] = z13 + z2;
      d[p + 3 * step] = z13 - z2;
      d[p + step] = z11 + z4;
      d[p + 7 * step] = z11 - z4;
    }
  }
}

/** Growable byte sink with the entropy coder's bit buffer (T.81 F.1.2.3 byte stuffing: 0xFF → 0xFF 0x00). */
class ByteSink {
  buf: Uint8Array;
  pos = 0;
  private acc = 0;
  private nbits = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.pos + extra));
    bigger.set(this.buf.subarray(0, this.pos));
    this.buf = bigger;
  }

  bytes(b: ArrayLike<number>): void {
    this.ensure(b.length);
    for (let i = 0; i < b.length; i++) this.buf[this.pos++] = b[i]!;
  }

  /** Appends the low `n` bits of `value` (n ≤ 16), MSB first. */
  bits(value: number, n: number): void {
    this.acc = (this.acc << n) | (value & ((1 << n) - 1));
    this.nbits += n;
    while (this.nbits >= 8) {
      this.nbits -= 8;
      const byte = (this.acc >>> this.nbits) & 0xff;
      this.buf[this.pos++] = byte;
      if (byte === 0xff) this.buf[this.pos++] = 0;
    }
    this.acc &= (1 << this.nbits) - 1;
  }

  /** Pads the last byte with 1-bits (T.81 F.1.2.3). */
  flushBits(): void {
    if (this.nbits > 0) this.bits(0x7f, 8 - this.nbits);
  }
}

function marker(sink: ByteSink, code: number, payload: readonly number[]): void {
  const len = payload.length + 2;
  sink.bytes([0xff, code, len >> 8, len & 0xff]);
  sink.bytes(payload);
}

function writeHeaders(sink: ByteSink, width: number, height: number, q: QuantTables): void {
  sink.bytes([0xff, 0xd8]); // SOI
  // APP0 JFIF 1.01, no density units (aspect 1:1), no thumbnail.
  marker(sink, 0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  // DQT: 8-bit precision, table 0 (luma) and 1 (chroma), values in zig-zag order.
  const dqt: number[] = [0x00];
  for (let k = 0; k < 64; k++) dqt.push(q.lumaQ[ZIGZAG[k]!]!);
  dqt.push(0x01);
  for (let k = 0; k < 64; k++) dqt.push(q.chromaQ[ZIGZAG[k]!]!);
  marker(sink, 0xdb, dqt);
  // SOF0 baseline: 8-bit, 3 components; Y sampled 2×2 (4:2:0), Cb/Cr 1×1.
  marker(sink, 0xc0, [
    8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3,
    1, 0x22, 0,
    2, 0x11, 1,
    3, 0x11, 1,
  ]);
  // DHT: class 0 = DC, 1 = AC; id 0 = luma, 1 = chroma.
  const dht: number[] = [];
  const table = (tcTh: number, t: HuffTable) => dht.push(tcTh, ...t.bits, ...t.vals);
  table(0x00, HUFF_DC_LUMA);
  table(0x10, HUFF_AC_LUMA);
  table(0x01, HUFF_DC_CHROMA);
  table(0x11, HUFF_AC_CHROMA);
  marker(sink, 0xc4, dht);
  // SOS: all 3 components interleaved, full spectral range, no successive approximation.
  marker(sink, 0xda, [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
}

/**
 * Quantises a DCT'd block and Huffman-codes it (T.81 F.1.2). Returns the block's DC value for the next
 * DC prediction of the same component.
 */
function encodeBlock(
  sink: ByteSink, block: Float64Array, div: Float64Array, zz: Int32Array, prevDc: number,
  dc: HuffTable, ac: HuffTable,
): number {
  let last = 0;
  for (let k = 0; k < 64; k++) {
    const n = ZIGZAG[k]!;
    const x = block[n]! * div[n]!;
    let v = x < 0 ? -Math.round(-x) : Math.round(x);
    // Baseline limits: DC diff category ≤ 11, AC category ≤ 10.
    if (k > 0) {
      if (v > 1023) v = 1023;
      else if (v < -1023) v = -1023;
      if (v !== 0) last = k;
    }
    zz[k] = v;
  }
  const dcVal = Math.max(-1023, Math.min(1023, zz[0]!));
  const diff = dcVal - prevDc;
  if (diff === 0) {
    sink.bits(dc.code[0]!, dc.len[0]!);
  } else {
    const mag = diff < 0 ? -diff : diff;
    const cat = 32 - Math.clz32(mag);
    sink.bits(dc.code[cat]!, dc.len[cat]!);
    sink.bits(diff < 0 ? diff - 1 : diff, cat);
  }
  let run = 0;
  for (let k = 1; k <= last; k++) {
    const v = zz[k]!;
    if (v === 0) {
      run++;
      continue;
    }
    while (run > 15) {
      sink.bits(ac.code[0xf0]!, ac.len[0xf0]!); // ZRL: 16 zeros
      run -= 16;
    }
    const mag = v < 0 ? -v : v;
    const cat = 32 - Math.clz32(mag);
    const sym = (run << 4) | cat;
    sink.bits(ac.code[sym]!, ac.len[sym]!);
    sink.bits(v < 0 ? v - 1 : v, cat);
    run = 0;
  }
  if (last < 63) sink.bits(ac.code[0x00]!, ac.len[0x00]!); // EOB
  return dcVal;
}

/**
 * Encodes an RGB or RGBA image as a baseline JFIF JPEG (4:2:0). Edges that are not a multiple of the 16×16
 * MCU are padded by repeating the last row/column, as T.81 A.2.4 suggests.
 */
export function encodeJpeg(pixels: Uint8Array, width: number, height: number, options: JpegOptions = {}): Uint8Array {
  const channels = options.channels ?? 3;
  const quality = Math.min(100, Math.max(1, Math.round(options.quality ?? 75)));
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 65535 || height > 65535) {
    throw new RangeError(`encodeJpeg: invalid size ${width}x${height}`);
  }
  if (pixels.length < width * height * channels) {
    throw new RangeError(`encodeJpeg: need ${width * height * channels} bytes, got ${pixels.length}`);
  }
  const q = quantTables(quality);
  const sink = new ByteSink(Math.max(4096, (width * height) >> 2));
  writeHeaders(sink, width, height, q);

  const mcuCols = Math.ceil(width / 16);
  const mcuRows = Math.ceil(height / 16);
  const stride = width * channels;
  // Byte offset of each (clamped) column, so edge replication costs nothing in the inner loop.
  const colOffset = new Int32Array(mcuCols * 16);
  for (let x = 0; x < colOffset.length; x++) colOffset[x] = Math.min(x, width - 1) * channels;

  const yPlane = new Float64Array(256); // 16×16 luma of the MCU, level-shifted
  const cb = new Float64Array(64);
  const cr = new Float64Array(64);
  const block = new Float64Array(64);
  const zz = new Int32Array(64);
  let dcY = 0, dcCb = 0, dcCr = 0;

  for (let my = 0; my < mcuRows; my++) {
    for (let mx = 0; mx < mcuCols; mx++) {
      // Worst case per MCU is well under 6 blocks × 64 coefficients × 4 bytes with stuffing.
      sink.ensure(1600);
      cb.fill(0);
      cr.fill(0);
      const x0 = mx * 16;
      for (let r = 0; r < 16; r++) {
        const rowBase = Math.min(my * 16 + r, height - 1) * stride;
        const cRow = (r >> 1) * 8;
        for (let c = 0; c < 16; c++) {
          const p = rowBase + colOffset[x0 + c]!;
          const R = pixels[p]!, G = pixels[p + 1]!, B = pixels[p + 2]!;
          // JFIF YCbCr (T.871 §7), level-shifted by −128; Cb/Cr offsets of +128 cancel the shift.
          yPlane[r * 16 + c] = 0.299 * R + 0.587 * G + 0.114 * B - 128;
          const ci = cRow + (c >> 1);
          cb[ci] = cb[ci]! + (-0.168735892 * R - 0.331264108 * G + 0.5 * B);
          cr[ci] = cr[ci]! + (0.5 * R - 0.418687589 * G - 0.081312411 * B);
        }
      }
      for (let b = 0; b < 4; b++) {
        const off = (b >> 1) * 128 + (b & 1) * 8; // Y0 Y1 / Y2 Y3
        for (let r = 0; r < 8; r++) {
          const src = off + r * 16;
          for (let c = 0; c < 8; c++) block[r * 8 + c] = yPlane[src + c]!;
        }
        fdctAan(block);
        dcY = encodeBlock(sink, block, q.lumaDiv, zz, dcY, HUFF_DC_LUMA, HUFF_AC_LUMA);
      }
      // 2×2 average for 4:2:0 subsampling.
      for (let i = 0; i < 64; i++) block[i] = cb[i]! * 0.25;
      fdctAan(block);
      dcCb = encodeBlock(sink, block, q.chromaDiv, zz, dcCb, HUFF_DC_CHROMA, HUFF_AC_CHROMA);
      for (let i = 0; i < 64; i++) block[i] = cr[i]! * 0.25;
      fdctAan(block);
      dcCr = encodeBlock(sink, block, q.chromaDiv, zz, dcCr, HUFF_DC_CHROMA, HUFF_AC_CHROMA);
    }
  }
  sink.flushBits();
  sink.ensure(2);
  sink.bytes([0xff, 0xd9]); // EOI
  return sink.buf.slice(0, sink.pos);
}

// PNG encoder (ISO/IEC 15948 / W3C PNG 2nd ed.): 8-bit truecolour (colour type 2), one IDAT, zlib via node:zlib.
// Used for the PNG video/share codec (spec §8: each PNG message is one whole image).

import { deflateSync } from 'node:zlib';

export interface PngOptions {
  /** Bytes per input pixel: 3 (RGB) or 4 (RGBA, alpha dropped). Default 3. */
  channels?: 3 | 4;
  /** zlib level 0-9. Default 6; synthetic frames are mostly flat, so higher levels buy little. */
  level?: number;
}

/** CRC-32 (ISO 3309 polynomial 0xEDB88320, reflected), as PNG §5.5 requires over chunk type + data. */
const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function chunk(out: Uint8Array, pos: number, type: string, data: Uint8Array): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(pos, data.length);
  for (let i = 0; i < 4; i++) out[pos + 4 + i] = type.charCodeAt(i);
  out.set(data, pos + 8);
  view.setUint32(pos + 8 + data.length, crc32(out, pos + 4, pos + 8 + data.length));
  return pos + 12 + data.length;
}

/**
 * Encodes RGB(A) pixels as an 8-bit RGB PNG. Every scanline uses filter 1 (Sub, PNG §9.2): flat areas and
 * horizontal runs become zeros, which deflate collapses, and it needs no previous-row state.
 */
export function encodePng(pixels: Uint8Array, width: number, height: number, options: PngOptions = {}): Uint8Array {
  const channels = options.channels ?? 3;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`encodePng: invalid size ${width}x${height}`);
  }
  if (pixels.length < width * height * channels) {
    throw new RangeError(`encodePng: need ${width * height * channels} bytes, got ${pixels.length}`);
  }
  const rowBytes = width * 3;
  const raw = new Uint8Array(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    const dst = y * (rowBytes + 1);
    raw[dst] = 1; // filter type Sub
    const src = y * width * channels;
    // First pixel: Sub's left neighbour is 0, so bytes are copied as is.
    raw[dst + 1] = pixels[src]!;
    raw[dst + 2] = pixels[src + 1]!;
    raw[dst + 3] = pixels[src + 2]!;
    for (let x = 1; x < width; x++) {
      const s = src + x * channels;
      const d = dst + 1 + x * 3;
      raw[d] = (pixels[s]! - pixels[s - channels]!) & 0xff;
      raw[d + 1] = (pixels[s + 1]! - pixels[s + 1 - channels]!) & 0xff;
      raw[d + 2] = (pixels[s + 2]! - pixels[s + 2 - channels]!) & 0xff;
    }
  }
  const idat = deflateSync(raw, { level: options.level ?? 6 });

  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0 (adaptive, per-row type byte)
  ihdr[12] = 0; // no interlace

  const out = new Uint8Array(SIGNATURE.length + (12 + 13) + (12 + idat.length) + 12);
  out.set(SIGNATURE, 0);
  let pos = SIGNATURE.length;
  pos = chunk(out, pos, 'IHDR', ihdr);
  pos = chunk(out, pos, 'IDAT', new Uint8Array(idat.buffer, idat.byteOffset, idat.byteLength));
  chunk(out, pos, 'IEND', new Uint8Array(0));
  return out;
}

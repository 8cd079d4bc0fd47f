// PNG encoder: signature, IHDR, chunk CRCs, and a round trip through inflate + unfiltering back to the pixels.
import { test, expect } from 'bun:test';
import { inflateSync } from 'node:zlib';
import { crc32, encodePng } from '../../src/media/video/png-encoder.ts';
import { renderFrame } from '../../src/media/video/frame-renderer.ts';
import type { VideoSubject } from '../../src/media/types.ts';

const SHARE: VideoSubject = { kind: 'share', userName: 'Bob Okafor', userId: 16779264 };

interface Chunk { type: string; data: Uint8Array; crc: number; crcInput: Uint8Array }

function readChunks(png: Uint8Array): Chunk[] {
  expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Chunk[] = [];
  let p = 8;
  while (p < png.length) {
    const len = view.getUint32(p);
    const type = new TextDecoder().decode(png.subarray(p + 4, p + 8));
    chunks.push({ type, data: png.subarray(p + 8, p + 8 + len), crc: view.getUint32(p + 8 + len), crcInput: png.subarray(p + 4, p + 8 + len) });
    p += 12 + len;
  }
  return chunks;
}

/** Reverses PNG filters 0 (None) and 1 (Sub) for 8-bit RGB; the encoder must use nothing else. */
function unfilter(raw: Uint8Array, width: number, height: number): Uint8Array {
  const stride = width * 3;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)]!;
    expect(type === 0 || type === 1).toBe(true);
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const left = type === 1 && x >= 3 ? out[y * stride + x - 3]! : 0;
      out[y * stride + x] = (v + left) & 0xff;
    }
  }
  return out;
}

test('CRC-32 matches the standard check value and Bun.hash.crc32', () => {
  expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  const data = new TextEncoder().encode('IHDR and friends');
  expect(crc32(data)).toBe(Bun.hash.crc32(data));
});

test('PNG: IHDR dims at every resolution, valid CRCs, IDAT inflates back to the exact pixels', () => {
  for (const [w, h] of [[640, 360], [1280, 720], [1920, 1080], [2560, 1440]] as const) {
    const frame = renderFrame(SHARE, w, h, 7, 20);
    const chunks = readChunks(encodePng(frame.data, w, h));
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    for (const c of chunks) expect(c.crc).toBe(Bun.hash.crc32(c.crcInput));
    const ihdr = new DataView(chunks[0]!.data.buffer, chunks[0]!.data.byteOffset, 13);
    expect([ihdr.getUint32(0), ihdr.getUint32(4)]).toEqual([w, h]);
    expect(Array.from(chunks[0]!.data.subarray(8))).toEqual([8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no interlace

    const pixels = unfilter(inflateSync(chunks[1]!.data), w, h);
    // A pixel of the window background and one of the red pointer region, then everything.
    const at = (x: number, y: number) => Array.from(pixels.subarray((y * w + x) * 3, (y * w + x) * 3 + 3));
    expect(at(Math.round(w / 2), Math.round(h * 0.9))).toEqual([...frame.pixel(Math.round(w / 2), Math.round(h * 0.9))]);
    expect(at(5, 5)).toEqual([0x1e, 0x24, 0x30]); // desktop colour around the window
    expect(Buffer.from(pixels).equals(Buffer.from(frame.data))).toBe(true);
  }
});

test('PNG accepts RGBA input (alpha dropped)', () => {
  const frame = renderFrame(SHARE, 64, 36, 0, 5);
  const rgba = new Uint8Array(64 * 36 * 4);
  for (let i = 0, j = 0; i < frame.data.length; i += 3, j += 4) rgba.set([frame.data[i]!, frame.data[i + 1]!, frame.data[i + 2]!, 128], j);
  expect(encodePng(rgba, 64, 36, { channels: 4 })).toEqual(encodePng(frame.data, 64, 36));
});

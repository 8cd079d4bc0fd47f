// JPEG encoder: structure (SOI/JFIF/SOF0/EOI), dimensions at every protocol resolution (spec §6), and a decode by
// an independent decoder (Debian ffmpeg) that must reproduce the picture.
import { test, expect } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeJpeg, fdctAan } from '../../src/media/video/jpeg-encoder.ts';
import { renderFrame, userColor } from '../../src/media/video/frame-renderer.ts';
import { fitScale } from '../../src/media/video/raster.ts';
import { textHeight } from '../../src/media/video/bitmap-font.ts';
import type { VideoSubject } from '../../src/media/types.ts';
import { requireFfmpeg } from '../helpers/ffmpeg.ts';

const RESOLUTIONS = [[640, 360], [1280, 720], [1920, 1080], [2560, 1440]] as const;
const ALICE: VideoSubject = { kind: 'camera', userName: 'Alice Chen', userId: 16778240 };

/** Walks the marker segments up to SOF0 and returns its frame size and component sampling. */
function readSof0(jpg: Uint8Array): { width: number; height: number; sampling: number[] } {
  expect([jpg[0], jpg[1]]).toEqual([0xff, 0xd8]);
  let p = 2;
  while (p + 4 <= jpg.length) {
    expect(jpg[p]).toBe(0xff);
    const code = jpg[p + 1]!;
    const len = (jpg[p + 2]! << 8) | jpg[p + 3]!;
    if (code === 0xc0) {
      const s = p + 4;
      const n = jpg[s + 5]!;
      const sampling = Array.from({ length: n }, (_, i) => jpg[s + 6 + i * 3 + 1]!);
      return { height: (jpg[s + 1]! << 8) | jpg[s + 2]!, width: (jpg[s + 3]! << 8) | jpg[s + 4]!, sampling };
    }
    if (code === 0xda) break;
    p += 2 + len;
  }
  throw new Error('no SOF0 before SOS');
}

test('AAN DCT matches the T.81 A.3.3 definition after its documented scaling', () => {
  const block = new Float64Array(64);
  for (let i = 0; i < 64; i++) block[i] = ((i * 37) % 256) - 128;
  const aan = [1, ...[1, 2, 3, 4, 5, 6, 7].map((k) => Math.cos((k * Math.PI) / 16) * Math.SQRT2)];
  const out = Float64Array.from(block);
  fdctAan(out);
  for (let u = 0; u < 8; u++) {
    for (let v = 0; v < 8; v++) {
      let s = 0;
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          s += block[y * 8 + x]! * Math.cos(((2 * x + 1) * v * Math.PI) / 16) * Math.cos(((2 * y + 1) * u * Math.PI) / 16);
        }
      }
      const expected = 0.25 * (u ? 1 : Math.SQRT1_2) * (v ? 1 : Math.SQRT1_2) * s;
      expect(out[u * 8 + v]! / (aan[u]! * aan[v]! * 8)).toBeCloseTo(expected, 9);
    }
  }
});

test('SOF0 carries the requested size at SD, HD, FHD and QHD; JFIF 4:2:0 layout', () => {
  for (const [w, h] of RESOLUTIONS) {
    const jpg = encodeJpeg(renderFrame(ALICE, w, h, 3, 10).data, w, h);
    const sof = readSof0(jpg);
    expect({ w: sof.width, h: sof.height }).toEqual({ w, h });
    expect(sof.sampling).toEqual([0x22, 0x11, 0x11]);
    expect(new TextDecoder().decode(jpg.subarray(6, 11))).toBe('JFIF\0');
    expect([jpg[jpg.length - 2], jpg[jpg.length - 1]]).toEqual([0xff, 0xd9]);
  }
});

test('RGBA input and quality: same picture, higher quality is larger', () => {
  const r = renderFrame(ALICE, 320, 180, 0, 10);
  const rgba = new Uint8Array(320 * 180 * 4);
  for (let i = 0, j = 0; i < r.data.length; i += 3, j += 4) {
    rgba[j] = r.data[i]!;
    rgba[j + 1] = r.data[i + 1]!;
    rgba[j + 2] = r.data[i + 2]!;
    rgba[j + 3] = 255;
  }
  expect(encodeJpeg(rgba, 320, 180, { channels: 4 })).toEqual(encodeJpeg(r.data, 320, 180));
  expect(encodeJpeg(r.data, 320, 180, { quality: 95 }).length).toBeGreaterThan(encodeJpeg(r.data, 320, 180, { quality: 30 }).length);
  expect(() => encodeJpeg(r.data, 321, 180)).toThrow(RangeError);
});

test('Debian ffmpeg decodes the JPEG: right size, faithful pixels, the name stands out', () => {
  const [w, h] = [1280, 720];
  const frame = renderFrame(ALICE, w, h, 42, 50);
  const jpg = encodeJpeg(frame.data, w, h, { quality: 75 });
  const dir = mkdtempSync(join(tmpdir(), 'rtms-jpeg-'));
  try {
    const file = join(dir, 'x.jpg');
    writeFileSync(file, jpg);
    const proc = Bun.spawnSync([requireFfmpeg(), '-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
    expect(proc.stderr.toString()).toBe('');
    expect(proc.exitCode).toBe(0);
    const rgb = new Uint8Array(proc.stdout);
    expect(rgb.length).toBe(w * h * 3);

    let err = 0;
    for (let i = 0; i < rgb.length; i++) err += Math.abs(rgb[i]! - frame.data[i]!);
    expect(err / rgb.length).toBeLessThan(4); // mean absolute error per channel

    // The name is drawn centred at 56% of the height (frame-renderer.ts); in that band, many decoded pixels must
    // be far from the background (white text on the user colour).
    const bg = userColor('Alice Chen');
    const s = fitScale('Alice Chen', w * 0.85, h * 0.13);
    const y0 = Math.round(h * 0.56);
    let ink = 0;
    let total = 0;
    for (let y = y0; y < y0 + textHeight(s); y++) {
      for (let x = Math.round(w * 0.1); x < Math.round(w * 0.9); x++) {
        const i = (y * w + x) * 3;
        total++;
        if (Math.abs(rgb[i]! - bg[0]) + Math.abs(rgb[i + 1]! - bg[1]) + Math.abs(rgb[i + 2]! - bg[2]) > 150) ink++;
      }
    }
    expect(ink / total).toBeGreaterThan(0.1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Checks on the media an RTMS app received from live sources (the page's "This browser" and "Media file"):
// JPEG dimensions from the bitstream, picture colours decoded by the test's own Chromium, and the level and
// frequency of L16 audio. Used by capture.test.ts and media-file.test.ts.
import type { Page } from 'playwright-core';
import type { ReferenceApp } from '../../../src/client/reference-app.ts';
import type { Rgb } from './fake-media.ts';

/** Every received message of one msg_type on any stream of the app, oldest first. */
export function received(app: ReferenceApp, msgType: number): any[] {
  const out: any[] = [];
  for (const s of app.streams.values()) for (const m of s.messages) if (m.msg?.msg_type === msgType) out.push(m.msg);
  return out;
}

/** Width and height from a JPEG's SOF marker, or null if it is not a baseline/progressive JPEG. */
export function jpegSize(b: Uint8Array): { width: number; height: number } | null {
  if (b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xc3) return { height: (b[i + 5]! << 8) | b[i + 6]!, width: (b[i + 7]! << 8) | b[i + 8]! };
    i += 2 + len;
  }
  return null;
}

export interface Quadrants { topLeft: Rgb; topRight: Rgb; bottomLeft: Rgb; bottomRight: Rgb }

/** Decodes an image in the page (the browser's own decoder) and samples the centre of each quadrant. */
export async function decodeQuadrants(page: Page, bytes: Uint8Array, mime = 'image/jpeg'): Promise<{ width: number; height: number; quadrants: Quadrants }> {
  return page.evaluate(async ({ b64, mime }) => {
    const bin = atob(b64);
    const data = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) data[i] = bin.charCodeAt(i);
    const bmp = await createImageBitmap(new Blob([data], { type: mime }));
    const c = new OffscreenCanvas(bmp.width, bmp.height);
    const g = c.getContext('2d', { willReadFrequently: true })!;
    g.drawImage(bmp, 0, 0);
    const at = (x: number, y: number): [number, number, number] => {
      const d = g.getImageData(Math.floor(x), Math.floor(y), 1, 1).data;
      return [d[0]!, d[1]!, d[2]!];
    };
    const w = bmp.width;
    const h = bmp.height;
    return {
      width: w, height: h,
      quadrants: { topLeft: at(w / 4, h / 4), topRight: at((3 * w) / 4, h / 4), bottomLeft: at(w / 4, (3 * h) / 4), bottomRight: at((3 * w) / 4, (3 * h) / 4) },
    };
  }, { b64: Buffer.from(bytes).toString('base64'), mime });
}

/** s16le samples from the base64 payloads of L16 audio messages (msg 14). */
export function pcmOf(messages: any[]): Int16Array {
  const parts = messages.map((m) => Buffer.from(String(m.content?.data ?? ''), 'base64'));
  const all = Buffer.concat(parts);
  return new Int16Array(all.buffer, all.byteOffset, Math.floor(all.byteLength / 2));
}

export function rms(s: Int16Array): number {
  let sum = 0;
  for (const v of s) sum += v * v;
  return s.length ? Math.sqrt(sum / s.length) / 32768 : 0;
}

/**
 * Dominant frequency of a mono signal at `rate` Hz, by a direct DFT scan between `lo` and `hi` Hz in 1 Hz steps
 * (robust to noise and DC, exact enough for a pure tone; 4096 samples cost a few tens of milliseconds).
 */
export function dominantHz(s: Int16Array, rate: number, lo = 100, hi = 2000): number {
  const n = Math.min(s.length, 4096); // the last 4096 samples (a quarter second at 16 kHz)
  const x = s.subarray(s.length - n);
  let best = 0;
  let bestPow = -1;
  for (let f = lo; f <= hi; f++) {
    let re = 0;
    let im = 0;
    const w = (2 * Math.PI * f) / rate;
    for (let i = 0; i < n; i++) {
      re += x[i]! * Math.cos(w * i);
      im -= x[i]! * Math.sin(w * i);
    }
    const p = re * re + im * im;
    if (p > bestPow) { bestPow = p; best = f; }
  }
  return best;
}

/** NAL unit types in an Annex-B buffer. */
export function nalTypes(b: Uint8Array): number[] {
  const t: number[] = [];
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) { t.push(b[i + 3]! & 0x1f); i += 3; }
  }
  return t;
}

// Deterministic camera and microphone content for headless Chromium (--use-file-for-fake-video-capture /
// --use-file-for-fake-audio-capture), generated in TypeScript so no ffmpeg is needed:
//   video: a Y4M file, four solid quadrants (red, green, blue, yellow) so a decoded frame can be checked by colour;
//   audio: a 16-bit PCM WAV, 48 kHz mono, a pure 440 Hz tone at a known amplitude.
// Files go under test-output/fake-media/ (gitignored) and are rewritten only when missing or different.
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OUTPUT_DIR = fileURLToPath(new URL('../../../test-output/fake-media', import.meta.url));

export type Rgb = readonly [number, number, number];

export const FAKE_VIDEO = {
  width: 640,
  height: 360,
  fps: 10,
  seconds: 2,
  /** Quadrant colours, in sRGB. */
  quadrants: {
    topLeft: [255, 0, 0],
    topRight: [0, 255, 0],
    bottomLeft: [0, 0, 255],
    bottomRight: [255, 255, 0],
  } satisfies Record<string, Rgb>,
} as const;

export const FAKE_AUDIO = {
  sampleRate: 48_000,
  channels: 1,
  frequencyHz: 440,
  /** Peak amplitude as a fraction of full scale. */
  amplitude: 0.5,
  /** Peak amplitude as a 16-bit sample value. */
  peak: Math.round(0.5 * 32767),
  seconds: 3,
} as const;

/** Full-range RGB → limited-range BT.601 Y'CbCr, what Chromium assumes for a Y4M file without a colour tag. */
export function rgbToYuv([r, g, b]: Rgb): [number, number, number] {
  const y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
  const u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255;
  const v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255;
  return [Math.round(y), Math.round(u), Math.round(v)];
}

/** One 4:2:0 frame with the four quadrants. */
function quadrantFrame(width: number, height: number): Uint8Array {
  const q = FAKE_VIDEO.quadrants;
  const yuvOf = (x: number, y: number): [number, number, number] => {
    const right = x >= width / 2;
    const bottom = y >= height / 2;
    return rgbToYuv(bottom ? (right ? q.bottomRight : q.bottomLeft) : right ? q.topRight : q.topLeft);
  };
  const cw = width / 2;
  const ch = height / 2;
  const frame = new Uint8Array(width * height + 2 * cw * ch);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) frame[y * width + x] = yuvOf(x, y)[0];
  }
  const uOff = width * height;
  const vOff = uOff + cw * ch;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      const [, u, v] = yuvOf(x * 2, y * 2);
      frame[uOff + y * cw + x] = u;
      frame[vOff + y * cw + x] = v;
    }
  }
  return frame;
}

/** The whole .y4m file (YUV4MPEG2, C420jpeg, progressive, square pixels). */
export function makeY4m(): Uint8Array {
  const { width, height, fps, seconds } = FAKE_VIDEO;
  const header = new TextEncoder().encode(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const frameTag = new TextEncoder().encode('FRAME\n');
  const frame = quadrantFrame(width, height);
  const frames = fps * seconds;
  const out = new Uint8Array(header.length + frames * (frameTag.length + frame.length));
  out.set(header, 0);
  let off = header.length;
  for (let i = 0; i < frames; i++) {
    out.set(frameTag, off);
    off += frameTag.length;
    out.set(frame, off);
    off += frame.length;
  }
  return out;
}

/** The whole .wav file: RIFF/WAVE, PCM 16-bit little-endian. */
export function makeWav(): Uint8Array {
  const { sampleRate, channels, frequencyHz, peak, seconds } = FAKE_AUDIO;
  const samples = sampleRate * seconds;
  const dataBytes = samples * channels * 2;
  const buf = new ArrayBuffer(44 + dataBytes);
  const dv = new DataView(buf);
  const ascii = (off: number, s: string) => {
    for (let i = 0; i < s.length; i++) dv.setUint8(off + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  dv.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  dv.setUint32(16, 16, true);
  dv.setUint16(20, 1, true); // PCM
  dv.setUint16(22, channels, true);
  dv.setUint32(24, sampleRate, true);
  dv.setUint32(28, sampleRate * channels * 2, true);
  dv.setUint16(32, channels * 2, true);
  dv.setUint16(34, 16, true);
  ascii(36, 'data');
  dv.setUint32(40, dataBytes, true);
  // 3 s of 440 Hz is a whole number of periods (1320), so the loop Chromium plays has no click.
  for (let i = 0; i < samples; i++) {
    const v = Math.round(peak * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRate));
    for (let c = 0; c < channels; c++) dv.setInt16(44 + (i * channels + c) * 2, v, true);
  }
  return new Uint8Array(buf);
}

function writeIfChanged(path: string, bytes: Uint8Array): void {
  if (existsSync(path)) {
    const old = readFileSync(path);
    if (old.length === bytes.length && Buffer.compare(old, bytes) === 0) return;
  }
  writeFileSync(path, bytes);
}

export interface FakeMediaFiles {
  video: string;
  audio: string;
}

/** Writes both files (if missing or stale) and returns their absolute paths. */
export function writeFakeMedia(dir = OUTPUT_DIR): FakeMediaFiles {
  mkdirSync(dir, { recursive: true });
  const video = join(dir, 'quadrants-640x360-10fps.y4m');
  const audio = join(dir, 'tone-440hz-48k-mono.wav');
  writeIfChanged(video, makeY4m());
  writeIfChanged(audio, makeWav());
  return { video, audio };
}

/** True when `got` is within `tolerance` of `want` on every channel (video codecs and YUV rounding shift colours). */
export function colourClose(got: Rgb, want: Rgb, tolerance = 40): boolean {
  return got.every((c, i) => Math.abs(c - want[i]!) <= tolerance);
}

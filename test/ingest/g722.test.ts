// The TypeScript G.722 codec (src/media/audio/g722.ts) against an independent reference: data/speech/mixed.g722
// was encoded by ffmpeg from the dialogue's 16 kHz mix, rotated by the codec delay (scripts/generate-speech.ts).
import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { loadMedia } from '../../src/app.ts';
import { G722Decoder, G722Encoder, decodeG722, encodeG722 } from '../../src/media/audio/g722.ts';
import { DATA_DIR } from '../helpers/mock.ts';
import { prng } from '../helpers/handshake-kit.ts';
import { zeroCrossingHz } from './feeder.ts';

const DELAY = 22; // codec_delay.g722_samples in transcript.json

async function mix16k(): Promise<Int16Array> {
  const { program } = await loadMedia(DATA_DIR);
  const frames = program.mixedFrames({ codec: 'L16', sampleRate: 16000, channels: 1 }, 20);
  const out = new Int16Array(frames.reduce((n, f) => n + f.byteLength / 2, 0));
  let o = 0;
  for (const f of frames) {
    const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
    for (let i = 0; i < f.byteLength / 2; i++) out[o++] = v.getInt16(2 * i, true);
  }
  return out;
}

function rotate(x: Int16Array, k: number): Int16Array {
  const out = new Int16Array(x.length);
  out.set(x.subarray(k), 0);
  out.set(x.subarray(0, k), x.length - k);
  return out;
}

function snrDb(ref: Int16Array, got: Int16Array): number {
  let s = 0;
  let n = 0;
  for (let i = 1000; i < ref.length - 1000; i++) { s += ref[i]! * ref[i]!; n += (ref[i]! - got[i]!) ** 2; }
  return 10 * Math.log10(s / n);
}

test('the encoder produces the same bytes as ffmpeg for the dialogue mix; the decoder restores it', async () => {
  const pcm = await mix16k();
  const reference = new Uint8Array(readFileSync(`${DATA_DIR}/speech/mixed.g722`));
  expect(reference.length).toBe(pcm.length / 2);
  const mine = encodeG722(rotate(pcm, DELAY));
  let same = 0;
  for (let i = 0; i < reference.length; i++) if (mine[i] === reference[i]) same++;
  expect(same).toBe(reference.length);
  expect(snrDb(pcm, decodeG722(reference))).toBeGreaterThan(20);
});

test('encoding in chunks of any size (odd ones too) equals encoding at once', async () => {
  const pcm = (await mix16k()).subarray(0, 48000);
  const whole = encodeG722(pcm);
  const enc = new G722Encoder();
  const rnd = prng(7);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < pcm.length;) {
    const n = Math.min(pcm.length - i, 1 + Math.floor(rnd() * 700));
    parts.push(enc.encode(pcm.subarray(i, i + n)));
    i += n;
  }
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { joined.set(p, o); o += p.length; }
  expect(Array.from(joined)).toEqual(Array.from(whole));
  // Decoding in chunks keeps state too.
  const dec = new G722Decoder();
  const a = dec.decode(whole.subarray(0, 1001));
  const b = dec.decode(whole.subarray(1001));
  expect([...a, ...b]).toEqual([...decodeG722(whole)]);
});

test('a 1 kHz tone survives the round trip', () => {
  const n = 16000;
  const tone = new Int16Array(n);
  for (let i = 0; i < n; i++) tone[i] = Math.round(10000 * Math.sin((2 * Math.PI * 1000 * i) / 16000));
  const back = decodeG722(encodeG722(tone)).subarray(2000);
  expect(Math.abs(zeroCrossingHz(back, 16000) - 1000)).toBeLessThan(5);
  let e = 0;
  for (let i = 0; i < back.length; i++) e += back[i]! * back[i]!;
  expect(Math.sqrt(e / back.length)).toBeGreaterThan(10000 / Math.SQRT2 * 0.9);
});

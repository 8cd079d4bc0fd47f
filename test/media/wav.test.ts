import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SPEECH_DIR } from '../../src/media/audio/speech-program.ts';
import { encodeWav, parseWav, WavWriter, wavHeader } from '../../src/media/audio/wav.ts';

test('encodeWav / parseWav round trip (mono and stereo)', () => {
  const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
  const wav = encodeWav(samples, 16000, 1);
  expect(wav.length).toBe(44 + 12);
  const back = parseWav(wav);
  expect(back.sampleRate).toBe(16000);
  expect(back.channels).toBe(1);
  expect(Array.from(back.samples)).toEqual(Array.from(samples));
  const st = parseWav(encodeWav(samples, 48000, 2));
  expect(st.channels).toBe(2);
  expect(st.samples.length).toBe(6);
});

test('WavWriter collects L16 chunks', () => {
  const w = new WavWriter(8000, 1);
  w.append(Uint8Array.from([1, 0, 2, 0]));
  w.append(Uint8Array.from([0xff, 0xff]));
  expect(w.byteLength).toBe(6);
  expect(w.durationMs).toBeCloseTo(3 / 8, 5);
  const parsed = parseWav(w.toBytes());
  expect(Array.from(parsed.samples)).toEqual([1, 2, -1]);
});

test('parseWav rejects non-s16 and non-WAV input, naming the file and field', () => {
  const wav = encodeWav(new Int16Array(4), 16000, 1);
  const eight = wav.slice();
  new DataView(eight.buffer).setUint16(34, 8, true); // bitsPerSample
  expect(() => parseWav(eight, 'x.wav')).toThrow(/x\.wav: fmt chunk field bitsPerSample/);
  const float = wav.slice();
  new DataView(float.buffer).setUint16(20, 3, true); // IEEE float
  expect(() => parseWav(float, 'f.wav')).toThrow(/f\.wav: fmt chunk field audioFormat/);
  expect(() => parseWav(new Uint8Array(10), 'short.wav')).toThrow(/short\.wav: not a RIFF\/WAVE/);
  expect(() => parseWav(wavHeader(0, 16000, 1).subarray(0, 36), 'nodata.wav')).toThrow(/no data chunk/);
});

test('parseWav skips unknown chunks and tolerates a streaming size', () => {
  const body = encodeWav(Int16Array.from([5, 6]), 16000, 1);
  // Insert a LIST chunk (odd size, padded) between fmt and data.
  const list = Uint8Array.from([0x4c, 0x49, 0x53, 0x54, 3, 0, 0, 0, 1, 2, 3, 0]);
  const wav = new Uint8Array(body.length + list.length);
  wav.set(body.subarray(0, 36), 0);
  wav.set(list, 36);
  wav.set(body.subarray(36), 36 + list.length);
  new DataView(wav.buffer).setUint32(36 + list.length + 4, 0xffffffff, true);
  expect(Array.from(parseWav(wav).samples)).toEqual([5, 6]);
});

test('the generated clips are 16 kHz mono s16 WAV', () => {
  const file = join(DEFAULT_SPEECH_DIR, 'clips', '01-alice.wav');
  const wav = parseWav(new Uint8Array(readFileSync(file)), file);
  expect(wav.sampleRate).toBe(16000);
  expect(wav.channels).toBe(1);
  expect(wav.samples.length % 16).toBe(0); // whole ms
});

import { expect, test } from 'bun:test';
import {
  alawToLinear,
  decodeMulaw,
  encodeMulaw,
  int16ToLeBytes,
  leBytesToInt16,
  linearToAlaw,
  linearToMulaw,
  mixClips,
  monoToStereo,
  mulawToLinear,
  resample,
  rms,
  rotate,
  stereoToMono,
} from '../../src/media/audio/pcm.ts';

function sine(rate: number, freq: number, seconds: number, amplitude: number): Int16Array {
  const n = Math.round(rate * seconds);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

/** Sign changes between start and end (a sine of f Hz has 2f per second). */
function zeroCrossings(x: Int16Array, start: number, end: number): number {
  let count = 0;
  for (let i = start + 1; i < end; i++) if ((x[i - 1]! < 0) !== (x[i]! < 0)) count++;
  return count;
}

const pairs: [number, number][] = [
  [16000, 48000],
  [16000, 8000],
  [16000, 32000],
  [48000, 8000],
  [8000, 48000],
  [48000, 32000],
  [32000, 16000],
];

for (const [from, to] of pairs) {
  test(`resample ${from} -> ${to} keeps a 1 kHz sine's frequency and amplitude`, () => {
    const input = sine(from, 1000, 1, 10000);
    const out = resample(input, from, to, { circular: true });
    expect(out.length).toBe(to);
    // Exactly 2000 sign changes in one second of a 1 kHz tone (circular, so no edge effects).
    expect(Math.abs(zeroCrossings(out, 0, out.length) - 2000)).toBeLessThanOrEqual(2);
    // RMS of a sine is A/sqrt(2); the pass band is flat to well under 1%.
    expect(rms(out) / (10000 / Math.SQRT2)).toBeCloseTo(1, 2);
    // And it is the same waveform, not just the same level: compare with the ideal sine at the new rate.
    const ideal = sine(to, 1000, 1, 10000);
    let err = 0;
    for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i]! - ideal[i]!));
    expect(err).toBeLessThan(60);
  });
}

test('resample low-passes: a 6 kHz tone at 16 kHz does not alias into 8 kHz output', () => {
  const out = resample(sine(16000, 6000, 1, 10000), 16000, 8000, { circular: true });
  // Nearest-sample decimation would fold it to 2 kHz at full level; the filter removes it.
  expect(rms(out)).toBeLessThan(10000 * 0.001);
});

test('resample without circular treats outside samples as silence', () => {
  const out = resample(new Int16Array(160).fill(1000), 16000, 48000);
  expect(out.length).toBe(480);
  expect(out[240]).toBe(1000); // unity DC gain in the middle
  expect(Math.abs(out[0]!)).toBeLessThan(1000); // edge rolls off
});

test('resample at the same rate copies', () => {
  const x = Int16Array.from([1, 2, 3]);
  const y = resample(x, 16000, 16000);
  expect(Array.from(y)).toEqual([1, 2, 3]);
  expect(y).not.toBe(x);
});

test('mono/stereo interleave and little-endian bytes', () => {
  const mono = Int16Array.from([1, -2, 300]);
  const stereo = monoToStereo(mono);
  expect(Array.from(stereo)).toEqual([1, 1, -2, -2, 300, 300]);
  expect(Array.from(stereoToMono(stereo))).toEqual([1, -2, 300]);
  const bytes = int16ToLeBytes(Int16Array.from([0x0102, -2]));
  expect(Array.from(bytes)).toEqual([0x02, 0x01, 0xfe, 0xff]);
  expect(Array.from(leBytesToInt16(bytes))).toEqual([0x0102, -2]);
});

test('µ-law: known codes and round trip over the whole s16 range', () => {
  expect(linearToMulaw(0)).toBe(0xff);
  expect(linearToMulaw(-1)).toBe(0x7f);
  expect(mulawToLinear(0xff)).toBe(0);
  expect(mulawToLinear(0x80)).toBe(32124);
  expect(mulawToLinear(0x00)).toBe(-32124);
  for (let code = 0; code < 256; code++) {
    if (code === 0x7f) continue; // "negative zero" decodes to 0, which encodes as 0xff
    expect(linearToMulaw(mulawToLinear(code))).toBe(code);
  }
  let worst = 0;
  for (let x = -32768; x <= 32767; x++) {
    const err = Math.abs(mulawToLinear(linearToMulaw(x)) - x);
    // Logarithmic: error grows with the level but stays within one quantisation half-step (about 1/32).
    if (Math.abs(x) <= 32124) expect(err).toBeLessThanOrEqual(Math.abs(x) / 30 + 8);
    worst = Math.max(worst, err);
  }
  expect(worst).toBeLessThan(1024);
  const samples = sine(8000, 440, 0.1, 20000);
  const back = decodeMulaw(encodeMulaw(samples));
  expect(rms(back) / rms(samples)).toBeCloseTo(1, 2);
});

test('A-law: known codes and round trip', () => {
  expect(linearToAlaw(0)).toBe(0xd5);
  expect(alawToLinear(0xd5)).toBe(8);
  expect(alawToLinear(0x55)).toBe(-8);
  expect(alawToLinear(0xaa)).toBe(32256);
  for (let code = 0; code < 256; code++) expect(linearToAlaw(alawToLinear(code))).toBe(code);
  for (let x = -32768; x <= 32767; x += 7) {
    expect(Math.abs(alawToLinear(linearToAlaw(x)) - x)).toBeLessThanOrEqual(Math.abs(x) / 32 + 16);
  }
});

test('mixClips overlays and protects against clipping with one gain', () => {
  const a = new Int16Array(4).fill(20000);
  const quiet = mixClips(6, [{ samples: Int16Array.from([100, 200]), offset: 1 }, { samples: Int16Array.from([5]), offset: 2 }]);
  expect(Array.from(quiet)).toEqual([0, 100, 205, 0, 0, 0]);
  const loud = mixClips(6, [{ samples: a, offset: 0 }, { samples: a, offset: 2 }]);
  // Sum peaks at 40000: scaled so the peak is full scale, shapes kept.
  expect(Math.max(...loud)).toBe(32767);
  expect(loud[0]).toBe(Math.round(20000 * (32767 / 40000)));
  expect(() => mixClips(3, [{ samples: a, offset: 0 }])).toThrow(/does not fit/);
});

test('rotate', () => {
  expect(Array.from(rotate(Int16Array.from([1, 2, 3, 4]), 1))).toEqual([2, 3, 4, 1]);
  expect(Array.from(rotate(Int16Array.from([1, 2, 3, 4]), -1))).toEqual([4, 1, 2, 3]);
});

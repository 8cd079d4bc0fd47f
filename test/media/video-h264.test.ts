// H.264 access-unit splitting (spec §8: one access unit per message, SPS/PPS before each key frame), on a
// hand-built stream and on every pre-encoded loop in data/video/h264.
import { test, expect } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isKeyFrame, NalType, nalTypes, pictureCount, splitAccessUnits } from '../../src/media/video/h264.ts';

const H264_DIR = join(import.meta.dir, '..', '..', 'data', 'video', 'h264');

/** A NAL unit with a 3- or 4-byte start code; slice payloads start with first_mb_in_slice (bit 1 = MB 0). */
function nal(type: number, payload: number[], long = true): number[] {
  return [...(long ? [0, 0, 0, 1] : [0, 0, 1]), 0x60 | type, ...payload];
}

test('splits a stream without AUDs at SPS/PPS/SEI and at each new picture', () => {
  const stream = new Uint8Array([
    ...nal(NalType.SPS, [0x42, 0xc0, 0x1e]),
    ...nal(NalType.PPS, [0xce, 0x3c, 0x80], false),
    ...nal(NalType.IDR, [0x88, 0x84]), // first_mb_in_slice = 0
    ...nal(NalType.IDR, [0x40, 0x11], false), // second slice of the same picture (first_mb = 1)
    ...nal(NalType.SLICE, [0x9a, 0x22]), // new picture
    ...nal(NalType.SEI, [0x05, 0x01]), // opens the next access unit
    ...nal(NalType.SLICE, [0x9a, 0x33]),
    0, 0, // trailing_zero_8bits
  ]);
  const aus = splitAccessUnits(stream);
  expect(aus.map(nalTypes)).toEqual([[7, 8, 5, 5], [1], [6, 1]]);
  expect(aus.map(pictureCount)).toEqual([1, 1, 1]);
  expect(aus.map(isKeyFrame)).toEqual([true, false, false]);
  // Re-emitted with 4-byte start codes and without the trailing zeros.
  expect(Array.from(aus[1]!)).toEqual([0, 0, 0, 1, 0x61, 0x9a, 0x22]);
});

test('AUDs mark boundaries and are dropped unless asked to keep them', () => {
  const stream = new Uint8Array([
    ...nal(NalType.AUD, [0x10]), ...nal(NalType.SPS, [0x42]), ...nal(NalType.PPS, [0xce]), ...nal(NalType.IDR, [0x88]),
    ...nal(NalType.AUD, [0x30]), ...nal(NalType.SLICE, [0x9a]),
  ]);
  expect(splitAccessUnits(stream).map(nalTypes)).toEqual([[7, 8, 5], [1]]);
  expect(splitAccessUnits(stream, { dropAud: false }).map(nalTypes)).toEqual([[9, 7, 8, 5], [9, 1]]);
});

const Manifest = JSON.parse(readFileSync(join(H264_DIR, 'manifest.json'), 'utf8')) as {
  frames: number; gop: number; streams: { file: string; width: number; height: number }[];
};

test('manifest lists 5 streams at each of the 4 resolutions (spec §6)', () => {
  expect(Manifest.streams.length).toBe(20);
  const sizes = new Set(Manifest.streams.map((s) => `${s.width}x${s.height}`));
  expect([...sizes].sort()).toEqual(['1280x720', '1920x1080', '2560x1440', '640x360']);
});

for (const s of Manifest.streams) {
  test(`${s.file}: 60 access units, IDR+SPS+PPS at 0 and 30, one picture each`, () => {
    const aus = splitAccessUnits(new Uint8Array(readFileSync(join(H264_DIR, s.file))));
    expect(aus.length).toBe(60);
    aus.forEach((au, i) => {
      const types = nalTypes(au);
      expect(pictureCount(au)).toBe(1);
      expect(types).not.toContain(NalType.AUD);
      if (i % 30 === 0) {
        expect(types.slice(0, 2)).toEqual([NalType.SPS, NalType.PPS]);
        expect(types).toContain(NalType.IDR);
        expect(isKeyFrame(au)).toBe(true);
      } else {
        expect(types).toEqual([NalType.SLICE]);
        expect(isKeyFrame(au)).toBe(false);
      }
    });
    // SPS: profile_idc 66 (Baseline) with constraint_set1 (Constrained Baseline), at the encoded size.
    const sps = aus[0]!.subarray(4);
    expect(sps[1]).toBe(66);
    expect((sps[2]! & 0x40) !== 0).toBe(true);
  });
}

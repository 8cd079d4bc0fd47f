// VideoLibrary contract (src/media/types.ts): loops per subject/codec/size, visible frame counter, caching identity,
// H264 stream selection and errors.
import { test, expect } from 'bun:test';
import { join } from 'node:path';
import { createVideoLibrary, stillLoopFrames } from '../../src/media/video/video-library.ts';
import { counterLabel, drawFrame, renderFrame } from '../../src/media/video/frame-renderer.ts';
import { glyphRows } from '../../src/media/video/bitmap-font.ts';
import { isKeyFrame, nalTypes } from '../../src/media/video/h264.ts';
import { Raster } from '../../src/media/video/raster.ts';
import type { VideoSubject } from '../../src/media/types.ts';

const DATA_DIR = join(import.meta.dir, '..', '..', 'data');
const ALICE: VideoSubject = { kind: 'camera', userName: 'Alice Chen', userId: 16778240 };
const BOB_SHARE: VideoSubject = { kind: 'share', userName: 'Bob Okafor', userId: 16779264 };
const GALLERY: VideoSubject = { kind: 'gallery', userNames: ['Alice Chen', 'Bob Okafor', 'Carol Diaz'] };

test('font: every printable ASCII glyph is distinct and inked (space excepted)', () => {
  const seen = new Set<string>();
  for (let c = 0x21; c <= 0x7e; c++) {
    const rows = Array.from(glyphRows(c));
    expect(rows.some((r) => r !== 0)).toBe(true);
    seen.add(rows.join(','));
  }
  expect(seen.size).toBe(0x7e - 0x21 + 1);
  expect(Array.from(glyphRows(0x20)).every((r) => r === 0)).toBe(true);
  expect(Array.from(glyphRows(0xe9))).toEqual(Array.from(glyphRows(0x3f))); // outside ASCII → '?'
});

test('loop lengths follow the pixel budget', () => {
  expect(stillLoopFrames(640, 360)).toBe(50);
  expect(stillLoopFrames(1280, 720)).toBe(50);
  expect(stillLoopFrames(1920, 1080)).toBe(30);
  expect(stillLoopFrames(2560, 1440)).toBe(15);
  expect(counterLabel(42)).toBe('#0042');
});

test('every subject kind renders; consecutive frames differ, drawing is deterministic', () => {
  for (const s of [ALICE, BOB_SHARE, GALLERY, { kind: 'gallery', userNames: [] } as VideoSubject]) {
    const a = renderFrame(s, 640, 360, 0, 10).data;
    const b = renderFrame(s, 640, 360, 1, 10).data;
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    // Same frame number, same pixels (drawing into a reused raster must fully repaint it).
    const r = new Raster(640, 360);
    drawFrame(r, s, 7, 10);
    drawFrame(r, s, 0, 10);
    expect(Buffer.from(r.data).equals(Buffer.from(a))).toBe(true);
  }
});

test('JPG and PNG loops: counted frames, consecutive frames differ, odd sizes render', () => {
  const lib = createVideoLibrary(DATA_DIR);
  for (const codec of ['JPG', 'PNG'] as const) {
    const frames = lib.frames(ALICE, codec, 640, 360);
    expect(frames.length).toBe(50);
    for (let i = 1; i < frames.length; i++) expect(Buffer.from(frames[i]!).equals(Buffer.from(frames[i - 1]!))).toBe(false);
    expect(Buffer.from(frames[0]!).equals(Buffer.from(frames[frames.length - 1]!))).toBe(false);
  }
  const odd = lib.frames(GALLERY, 'JPG', 333, 201);
  expect(odd.length).toBe(50);
  expect([odd[0]![0], odd[0]![1]]).toEqual([0xff, 0xd8]);
  expect(() => lib.frames(ALICE, 'JPG', 0, 360)).toThrow(RangeError);
  expect(() => lib.frames(ALICE, 'GIF' as never, 640, 360)).toThrow(/unsupported/);
});

test('caching: the same array for every caller, regardless of property order', () => {
  const lib = createVideoLibrary(DATA_DIR);
  const a = lib.frames(ALICE, 'JPG', 640, 360);
  const b = lib.frames({ userId: 16778240, userName: 'Alice Chen', kind: 'camera' }, 'JPG', 640, 360);
  expect(b).toBe(a);
  expect(Object.isFrozen(a)).toBe(true);
  expect(lib.frames(ALICE, 'PNG', 640, 360)).not.toBe(a);
  expect(lib.frames({ ...ALICE, userName: 'Someone Else' }, 'JPG', 640, 360)).not.toBe(a);
  expect(lib.frames(GALLERY, 'PNG', 640, 360)).toBe(lib.frames({ kind: 'gallery', userNames: [...GALLERY.userNames] }, 'PNG', 640, 360));
  const h = lib.frames(ALICE, 'H264', 1280, 720);
  expect(lib.frames(ALICE, 'H264', 1280, 720)).toBe(h);
});

test('H264: named cameras, share and fallback streams; 60 AUs starting with a key frame', () => {
  const lib = createVideoLibrary(DATA_DIR);
  for (const [w, h] of [[640, 360], [1280, 720], [1920, 1080], [2560, 1440]] as const) {
    const alice = lib.frames(ALICE, 'H264', w, h);
    const bob = lib.frames({ kind: 'camera', userName: 'Bob Okafor', userId: 16779264 }, 'H264', w, h);
    const share = lib.frames(BOB_SHARE, 'H264', w, h);
    const stranger = lib.frames({ kind: 'camera', userName: 'Dana Stranger', userId: 1 }, 'H264', w, h);
    const gallery = lib.frames(GALLERY, 'H264', w, h);
    for (const loop of [alice, bob, share, stranger]) {
      expect(loop.length).toBe(60);
      expect(isKeyFrame(loop[0]!)).toBe(true);
      expect(nalTypes(loop[0]!).slice(0, 2)).toEqual([7, 8]);
    }
    expect(new Set([alice, bob, share, stranger]).size).toBe(4);
    expect(gallery).toBe(stranger); // generic "Participant" loop, shared
  }
});

test('H264 at a size that was not pre-encoded fails clearly; missing data names the script', () => {
  const lib = createVideoLibrary(DATA_DIR);
  expect(() => lib.frames(ALICE, 'H264', 800, 600)).toThrow(/pre-encoded only at 640x360, 1280x720, 1920x1080, 2560x1440/);
  expect(() => createVideoLibrary('/nonexistent').frames(ALICE, 'H264', 640, 360)).toThrow(/generate-video\.sh/);
});

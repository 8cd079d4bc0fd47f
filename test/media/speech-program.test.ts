import { expect, test } from 'bun:test';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMulaw, leBytesToInt16, rms } from '../../src/media/audio/pcm.ts';
import { DEFAULT_SPEECH_DIR, loadSpeechProgram } from '../../src/media/audio/speech-program.ts';
import type { AudioFormat, Utterance } from '../../src/media/types.ts';

const program = await loadSpeechProgram(DEFAULT_SPEECH_DIR);
const D = program.durationMs;

const L16_16K: AudioFormat = { codec: 'L16', sampleRate: 16000, channels: 1 };
const formats: [AudioFormat, (frameMs: number) => number][] = [
  [{ codec: 'L16', sampleRate: 8000, channels: 1 }, (f) => 16 * f],
  [{ codec: 'L16', sampleRate: 8000, channels: 2 }, (f) => 32 * f],
  [L16_16K, (f) => 32 * f],
  [{ codec: 'L16', sampleRate: 16000, channels: 2 }, (f) => 64 * f],
  [{ codec: 'L16', sampleRate: 32000, channels: 1 }, (f) => 64 * f],
  [{ codec: 'L16', sampleRate: 32000, channels: 2 }, (f) => 128 * f],
  [{ codec: 'L16', sampleRate: 48000, channels: 1 }, (f) => 96 * f],
  [{ codec: 'L16', sampleRate: 48000, channels: 2 }, (f) => 192 * f],
  [{ codec: 'G711', sampleRate: 8000, channels: 1 }, (f) => 8 * f],
  [{ codec: 'G722', sampleRate: 16000, channels: 1 }, (f) => 8 * f],
];

const overlaps = (u: Utterance, i: number, f: number) => u.startMs < (i + 1) * f && u.endMs > i * f;
test('program metadata: 3 speakers, sorted utterances with one crosstalk, chat inside the loop', () => {
  expect(D % 20).toBe(0);
  expect(program.speakers).toEqual([
    { key: 'alice', userId: 16778240, userName: 'Alice Chen' },
    { key: 'bob', userId: 16779264, userName: 'Bob Okafor' },
    { key: 'carol', userId: 16780288, userName: 'Carol Diaz' },
  ]);
  expect(program.utterances.length).toBeGreaterThanOrEqual(8);
  const speech = program.utterances.reduce((a, u) => a + u.endMs - u.startMs, 0);
  expect(speech).toBeGreaterThan(18000);
  expect(speech).toBeLessThan(26000);
  let overlapsCount = 0;
  program.utterances.forEach((u, i) => {
    if (i > 0) expect(u.startMs).toBeGreaterThanOrEqual(program.utterances[i - 1]!.startMs);
    if (i > 0 && u.startMs < program.utterances[i - 1]!.endMs) overlapsCount++;
  });
  expect(overlapsCount).toBe(1);
  expect(program.chat.length).toBeGreaterThanOrEqual(2);
  for (const c of program.chat) expect(c.atMs).toBeLessThan(D);
  // The loop ends in silence (>= 1 s) so it wraps cleanly.
  expect(D - Math.max(...program.utterances.map((u) => u.endMs))).toBeGreaterThanOrEqual(1000);
});

for (const frameMs of [20, 40, 60, 100, 140, 1000]) {
  test(`frame sizes and counts for every fixed-size format at ${frameMs} ms`, () => {
    for (const [format, size] of formats) {
      const frames = program.mixedFrames(format, frameMs);
      expect(frames.length).toBe(Math.floor(D / frameMs));
      for (const f of frames) expect(f.length).toBe(size(frameMs));
      const alice = program.speakerFrames('alice', format, frameMs);
      expect(alice.length).toBe(frames.length);
      for (const f of alice) if (f) expect(f.length).toBe(size(frameMs));
    }
  });
}

test('spot sizes from spec §8', () => {
  expect(program.mixedFrames(L16_16K, 20)[0]!.length).toBe(640);
  expect(program.mixedFrames({ codec: 'L16', sampleRate: 48000, channels: 2 }, 20)[0]!.length).toBe(3840);
  expect(program.mixedFrames({ codec: 'L16', sampleRate: 8000, channels: 1 }, 20)[0]!.length).toBe(320);
  expect(program.mixedFrames({ codec: 'G711', sampleRate: 8000, channels: 1 }, 20)[0]!.length).toBe(160);
  expect(program.mixedFrames({ codec: 'G722', sampleRate: 16000, channels: 1 }, 20)[0]!.length).toBe(160);
});

test('Opus: one non-empty packet per 20 ms, mono and stereo; other frame sizes are refused', () => {
  for (const channels of [1, 2] as const) {
    const frames = program.mixedFrames({ codec: 'OPUS', sampleRate: 48000, channels }, 20);
    expect(frames.length).toBe(D / 20);
    for (const f of frames) expect(f.length).toBeGreaterThan(0);
  }
  expect(() => program.mixedFrames({ codec: 'OPUS', sampleRate: 48000, channels: 1 }, 40)).toThrow(/OPUS.*20 ms.*40/);
  expect(() => program.speakerFrames('bob', { codec: 'OPUS', sampleRate: 48000, channels: 1 }, 100)).toThrow(/OPUS/);
});

test('invalid formats and frame sizes are refused with a clear error', () => {
  expect(() => program.mixedFrames(L16_16K, 30)).toThrow(/multiple of 20/);
  expect(() => program.mixedFrames(L16_16K, 1020)).toThrow(/up to 1000/);
  expect(() => program.mixedFrames({ codec: 'G711', sampleRate: 16000, channels: 1 }, 20)).toThrow(/G711 is 8 kHz mono/);
  expect(() => program.mixedFrames({ codec: 'G722', sampleRate: 16000, channels: 2 }, 20)).toThrow(/G722 is 16 kHz mono/);
  expect(() => program.mixedFrames({ codec: 'OPUS', sampleRate: 16000, channels: 1 }, 20)).toThrow(/48 kHz/);
  expect(() => program.mixedFrames({ codec: 'L16', sampleRate: 44100 as 48000, channels: 1 }, 20)).toThrow(/8\/16\/32\/48/);
  expect(() => program.speakerFrames('dave', L16_16K, 20)).toThrow(/unknown speaker "dave"/);
});

test('caching: the same arguments return the same array; it is frozen', () => {
  const a = program.mixedFrames(L16_16K, 20);
  expect(program.mixedFrames({ ...L16_16K }, 20)).toBe(a);
  expect(program.mixedFrames(L16_16K, 40)).not.toBe(a);
  expect(Object.isFrozen(a)).toBe(true);
  const s = program.speakerFrames('carol', { codec: 'OPUS', sampleRate: 48000, channels: 2 }, 20);
  expect(program.speakerFrames('carol', { codec: 'OPUS', sampleRate: 48000, channels: 2 }, 20)).toBe(s);
});

/** RMS of each frame of a format, decoded to linear PCM. */
function frameLevels(format: AudioFormat, frameMs: number): number[] {
  return program.mixedFrames(format, frameMs).map((f) => rms(format.codec === 'G711' ? decodeMulaw(f) : leBytesToInt16(f)));
}

test('alignment: frames carry speech inside utterances and silence in the gaps (L16 16 kHz, exact)', () => {
  const levels = frameLevels(L16_16K, 20);
  levels.forEach((level, i) => {
    // The master is built from the clips: no utterance, not a single non-zero sample.
    if (program.utterances.every((u) => !overlaps(u, i, 20))) expect(level).toBe(0);
  });
  for (const u of program.utterances) {
    const first = Math.floor(u.startMs / 20);
    const last = Math.ceil(u.endMs / 20) - 1;
    const inside = levels.slice(first, last + 1);
    const loud = inside.filter((l) => l > 300).length;
    // Speech with the odd pause between words/sentences: most frames are loud.
    expect(loud / inside.length).toBeGreaterThan(0.6);
    // Onset and release land within 60 ms of the transcript times (the clips are trimmed to the speech).
    expect(Math.max(...levels.slice(first, first + 3))).toBeGreaterThan(100);
    expect(Math.max(...levels.slice(last - 2, last + 1))).toBeGreaterThan(100);
  }
});

for (const format of [
  { codec: 'L16', sampleRate: 8000, channels: 1 },
  { codec: 'L16', sampleRate: 48000, channels: 2 },
  { codec: 'G711', sampleRate: 8000, channels: 1 },
] as AudioFormat[]) {
  test(`alignment survives resampling/encoding: ${format.codec} ${format.sampleRate} ${format.channels}ch`, () => {
    const levels = frameLevels(format, 20);
    const ref = frameLevels(L16_16K, 20);
    const ratios: number[] = [];
    levels.forEach((level, i) => {
      const near = program.utterances.some((u) => u.startMs < (i + 2) * 20 && u.endMs > (i - 1) * 20);
      if (!near) expect(level).toBeLessThan(format.codec === 'G711' ? 10 : 2); // only filter tails / µ-law zero
      if (ref[i]! > 1000) ratios.push(level / ref[i]!);
    });
    // Same envelope as the master, frame by frame. At 8 kHz fricatives lose their energy above 4 kHz, so a
    // few frames drop a lot, but none vanishes and the typical frame keeps its level.
    ratios.sort((a, b) => a - b);
    expect(ratios[0]!).toBeGreaterThan(0.1);
    expect(ratios[ratios.length >> 1]!).toBeGreaterThan(0.9);
  });
}

test('alignment of the pre-encoded tracks: Opus packets are tiny in silence; G.722 idles in gaps', () => {
  const opus = program.mixedFrames({ codec: 'OPUS', sampleRate: 48000, channels: 1 }, 20);
  const g722 = program.mixedFrames({ codec: 'G722', sampleRate: 16000, channels: 1 }, 20);
  const ref = frameLevels(L16_16K, 20);
  const silent: number[] = [];
  const loud: number[] = [];
  ref.forEach((level, i) => {
    const near = program.utterances.some((u) => u.startMs < (i + 2) * 20 && u.endMs > (i - 1) * 20);
    if (!near) silent.push(i);
    if (level > 2000) loud.push(i);
  });
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  expect(median(silent.map((i) => opus[i]!.length))).toBeLessThanOrEqual(10);
  expect(avg(loud.map((i) => opus[i]!.length))).toBeGreaterThan(30);
  // G.722's idle channel pattern uses a handful of code words; speech uses many.
  const distinct = (f: Uint8Array) => new Set(f).size;
  for (const i of silent) expect(distinct(g722[i]!)).toBeLessThan(40);
  for (const i of loud) expect(distinct(g722[i]!)).toBeGreaterThan(50);
});

test('speakerFrames: null exactly where that speaker is silent, in every format', () => {
  for (const frameMs of [20, 100, 1000]) {
    for (const [format] of formats) {
      for (const s of program.speakers) {
        const frames = program.speakerFrames(s.key, format, frameMs);
        const own = program.utterances.filter((u) => u.speaker === s.key);
        frames.forEach((f, i) => expect(f !== null).toBe(own.some((u) => overlaps(u, i, frameMs))));
      }
    }
  }
  for (const channels of [1, 2] as const) {
    for (const s of program.speakers) {
      const frames = program.speakerFrames(s.key, { codec: 'OPUS', sampleRate: 48000, channels }, 20);
      const own = program.utterances.filter((u) => u.speaker === s.key);
      frames.forEach((f, i) => {
        expect(f !== null).toBe(own.some((u) => overlaps(u, i, 20)));
        if (f) expect(f.length).toBeGreaterThan(0);
      });
    }
  }
});

test('speakerFrames: during the crosstalk two speakers are active; the mix is their sum', () => {
  const i = program.utterances.findIndex((u, k) => k > 0 && u.startMs < program.utterances[k - 1]!.endMs);
  const a = program.utterances[i - 1]!;
  const b = program.utterances[i]!;
  expect(a.speaker).not.toBe(b.speaker);
  const frame = Math.floor((b.startMs + 100) / 20);
  expect(program.speakerFrames(a.speaker, L16_16K, 20)[frame]).not.toBeNull();
  expect(program.speakerFrames(b.speaker, L16_16K, 20)[frame]).not.toBeNull();
  // L16 16 kHz: mixed = sum of the speakers' frames (no clipping gain was needed for this dialogue).
  const mixed = program.mixedFrames(L16_16K, 20);
  const tracks = program.speakers.map((s) => program.speakerFrames(s.key, L16_16K, 20));
  for (let f = 0; f < mixed.length; f++) {
    const m = leBytesToInt16(mixed[f]!);
    const sum = new Int32Array(m.length);
    for (const t of tracks) {
      const x = t[f];
      if (x) leBytesToInt16(x).forEach((v, k) => (sum[k]! += v));
    }
    expect(Array.from(m)).toEqual(Array.from(sum));
  }
});

function tempCopy(mutate: (t: Record<string, unknown>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'speech-test-'));
  const t = JSON.parse(readFileSync(join(DEFAULT_SPEECH_DIR, 'transcript.json'), 'utf8')) as Record<string, unknown>;
  mutate(t);
  writeFileSync(join(dir, 'transcript.json'), JSON.stringify(t));
  return dir;
}

test('a broken transcript.json is rejected by zod, naming the file and the field', async () => {
  const dir = tempCopy((t) => {
    t.duration_ms = 'long';
  });
  try {
    await expect(loadSpeechProgram(dir)).rejects.toThrow(/transcript\.json: invalid: field duration_ms/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const dir2 = tempCopy((t) => {
    (t.utterances as { speaker: string }[])[2]!.speaker = 'mallory';
  });
  try {
    await expect(loadSpeechProgram(dir2)).rejects.toThrow(/transcript\.json: invalid: field utterances\.2\.speaker: unknown speaker "mallory"/);
  } finally {
    rmSync(dir2, { recursive: true, force: true });
  }
});

test('a missing or mismatched clip is reported with its file name', async () => {
  const dir = tempCopy(() => {});
  try {
    await expect(loadSpeechProgram(dir)).rejects.toThrow(/clips\/\d\d-[a-z]+\.wav: cannot read/) // clips load in parallel: any may fail first;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // A clip that does not fill its utterance exactly would break the alignment: refused.
  const dir2 = tempCopy((t) => {
    (t.utterances as { end_ms: number }[])[0]!.end_ms -= 1;
  });
  try {
    // Every clip present, so the only possible failure is the shortened first utterance.
    mkdirSync(join(dir2, 'clips'));
    for (const f of readdirSync(join(DEFAULT_SPEECH_DIR, 'clips'))) copyFileSync(join(DEFAULT_SPEECH_DIR, 'clips', f), join(dir2, 'clips', f));
    await expect(loadSpeechProgram(dir2)).rejects.toThrow(/01-alice\.wav: \d+ samples but utterance is/);
  } finally {
    rmSync(dir2, { recursive: true, force: true });
  }
});

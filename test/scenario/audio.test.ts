// A scenario's audio (src/scenario/audio-program.ts) and its layout on the wall clock: free text is non-silent
// babble aligned with its transcript times, dialogue lines are the pre-encoded frames themselves (no
// re-encoding), crosstalk is mixed in the mixed stream and separate in multi-stream audio, long send rates and
// every codec work, and the speed factor compresses the timeline and the speech together.
import { describe, expect, test } from 'bun:test';
import type { AudioFormat } from '../../src/media/types.ts';
import { leBytesToInt16, rms } from '../../src/media/audio/pcm.ts';
import type { AudioSender } from '../../src/engine/media-program.ts';
import { ScenarioAudio } from '../../src/scenario/audio-program.ts';
import { planBabble, synthesizeBabble, babbleVoice } from '../../src/scenario/babble.ts';
import { layoutPlan, type Layout } from '../../src/scenario/layout.ts';
import { media, planOf } from './helpers.ts';

const L16: AudioFormat = { codec: 'L16', sampleRate: 16000, channels: 1 };
const ORIGIN = 1_000_000; // any ms epoch on the 20 ms grid
const everyone = { mediaOrigin: ORIGIN - 4000, product: 'meeting', isPresent: () => true };

interface Emitted { bytes: Uint8Array; frames: readonly (Uint8Array | null)[]; index: number; sender: AudioSender }

async function program(value: unknown, speed = 1): Promise<{ audio: ScenarioAudio; layout: Layout }> {
  const { program } = await media();
  const layout = layoutPlan(await planOf(value), speed);
  const audio = new ScenarioAudio(layout, program);
  audio.origin = ORIGIN;
  return { audio, layout };
}

function tick(track: ReturnType<ScenarioAudio['audio']>, ts: number): Emitted[] {
  const out: Emitted[] = [];
  track.frame(ts, (frames, index, sender) => { const b = frames[index]; if (b) out.push({ bytes: b, frames, index, sender }); });
  return out;
}

const alice = { id: 'alice', name: 'Alice Chen', voice: 'alice' };
const bob = { id: 'bob', name: 'Bob Okafor', voice: 'bob' };

describe('free text (babble)', () => {
  test('is deterministic, lasts as long as its text, and differs by voice', () => {
    const text = 'Hello everyone, the numbers look fine.';
    const a = synthesizeBabble(text, babbleVoice('alice'), 7);
    expect(synthesizeBabble(text, babbleVoice('alice'), 7)).toEqual(a);
    expect(a.length).toBe(planBabble(text, 7).durationMs * 16);
    expect(planBabble('Hi.', 7).durationMs).toBeLessThan(planBabble(text, 7).durationMs);
    expect(synthesizeBabble(text, babbleVoice('bob'), 7)).not.toEqual(a);
    expect(rms(a)).toBeGreaterThan(1000);
  });

  test('plays as non-silent audio exactly within its transcript times, silence around it', async () => {
    const { audio, layout } = await program({ participants: [alice], timeline: [{ at: '1s', speak: { who: 'alice', text: 'Did the login fix make it in?' } }] });
    const u = layout.utterances[0]!;
    expect(u.startMs).toBe(1000);
    expect(u.endMs).toBe(1000 + planBabble('Did the login fix make it in?', u.speech.source.kind === 'babble' ? u.speech.source.seed : 0).durationMs);
    const transcript = layout.events.find((e) => e.kind === 'transcript')!;
    expect(transcript.at).toBe(u.endMs); // sent when the audio ends (spec §7)
    const track = audio.audio(everyone, L16, 20, false);
    const level = (from: number, to: number) => {
      const levels: number[] = [];
      for (let t = from; t < to; t += 20) {
        const e = tick(track, ORIGIN + t);
        expect(e).toHaveLength(1); // the mixed stream always sends (spec §8)
        expect(e[0]!.sender.userId).toBe(0);
        levels.push(rms(leBytesToInt16(e[0]!.bytes)));
      }
      return levels;
    };
    expect(Math.max(...level(0, u.startMs))).toBeLessThan(10);
    const during = level(u.startMs, u.endMs);
    expect(during.filter((l) => l > 300).length / during.length).toBeGreaterThan(0.6);
    expect(Math.max(...level(u.endMs, u.endMs + 1000))).toBeLessThan(10);
  });

  test('is encoded in every format: G.711, G.722, L16 stereo 48 kHz, and Opus (recorded packets stand in)', async () => {
    const { audio, layout } = await program({ participants: [alice], timeline: [{ at: 0, speak: { who: 'alice', text: 'One two three four five.' } }] });
    const u = layout.utterances[0]!;
    const at = ORIGIN + u.startMs + 200;
    const sizes: [AudioFormat, number][] = [
      [{ codec: 'G711', sampleRate: 8000, channels: 1 }, 160], [{ codec: 'G722', sampleRate: 16000, channels: 1 }, 160],
      [{ codec: 'L16', sampleRate: 48000, channels: 2 }, 3840], [{ codec: 'L16', sampleRate: 8000, channels: 1 }, 320],
    ];
    for (const [f, n] of sizes) expect(tick(audio.audio(everyone, f, 20, false), at)[0]!.bytes.length).toBe(n);
    const opus = tick(audio.audio(everyone, { codec: 'OPUS', sampleRate: 48000, channels: 1 }, 20, true), at);
    expect(opus).toHaveLength(1);
    expect(opus[0]!.bytes.length).toBeGreaterThan(10);
  });
});

describe('dialogue lines and crosstalk', () => {
  test('a dialogue line is its speaker track\'s pre-encoded frames (the same objects: nothing re-encoded)', async () => {
    const { program: speech } = await media();
    const { audio, layout } = await program({ participants: [bob], timeline: [{ at: 0, speak: { who: 'bob', line: '02-bob' } }] });
    const u = layout.utterances[0]!;
    const g722: AudioFormat = { codec: 'G722', sampleRate: 16000, channels: 1 };
    const track = speech.speakerFrames('bob', g722, 20);
    const line = speech.utterances[1]!;
    const first = Math.floor(line.startMs / 20);
    for (const k of [0, 10, u.frames - 1]) {
      const [e] = tick(audio.audio(everyone, g722, 20, false), ORIGIN + (u.firstFrame + k) * 20);
      expect(e!.frames).toBe(track);
      expect(e!.index).toBe(first + k);
    }
  });

  test('crosstalk: mixed in the mixed stream (the sum of both voices), one message per talker in multi-stream', async () => {
    const { program: speech } = await media();
    const { audio, layout } = await program({
      participants: [alice, bob],
      timeline: [{ at: 0, speak: { who: 'alice', line: 0 } }, { at: '1s', speak: { who: 'bob', line: 1 } }],
    });
    const [a, b] = layout.utterances;
    const t = 2200; // both talk
    expect(a!.firstFrame * 20 <= t && t < (a!.firstFrame + a!.frames) * 20 && b!.firstFrame * 20 <= t).toBe(true);
    const [mixed] = tick(audio.audio(everyone, L16, 20, false), ORIGIN + t);
    // Each voice alone: its speaker track at the line's frame (spec §8 framing, 20 ms).
    const own = (who: string, u: typeof a) => {
      const src = u!.speech.source;
      if (src.kind !== 'line') throw new Error('a line');
      return leBytesToInt16(speech.speakerFrames(who, L16, 20)[src.line.spanStartMs / 20 + (t / 20 - u!.firstFrame)]!);
    };
    const pa = own('alice', a);
    const pb = own('bob', b);
    const pm = leBytesToInt16(mixed!.bytes);
    expect(rms(pa)).toBeGreaterThan(100);
    expect(rms(pb)).toBeGreaterThan(100);
    for (let i = 0; i < pm.length; i += 37) expect(pm[i]).toBe(Math.max(-32768, Math.min(32767, pa[i]! + pb[i]!)));
    const multi = tick(audio.audio(everyone, L16, 20, true), ORIGIN + t);
    expect(multi.map((e) => [e.sender.userId, e.sender.userName])).toEqual([[16778240, 'Alice Chen'], [16779264, 'Bob Okafor']]);
    expect(tick(audio.audio(everyone, L16, 20, true), ORIGIN + 20_000)).toEqual([]); // silence: nothing (spec §8)
    // Someone who is not present is not heard.
    const onlyBob = { ...everyone, isPresent: (id: number) => id === 16779264 };
    expect(tick(audio.audio(onlyBob, L16, 20, true), ORIGIN + t).map((e) => e.sender.userId)).toEqual([16779264]);
  });

  test('a send rate above 20 ms joins whole frames: 100 ms of L16 16 kHz is 3200 bytes', async () => {
    const { audio } = await program({ participants: [alice], timeline: [{ at: 0, speak: { who: 'alice', line: 0 } }] });
    const track = audio.audio(everyone, L16, 100, false);
    expect(tick(track, ORIGIN + 1000)[0]!.bytes.length).toBe(3200);
    expect(tick(track, ORIGIN - 2000)[0]!.bytes.length).toBe(3200); // before the timeline: silence
    expect(tick(audio.audio(everyone, L16, 100, true), ORIGIN + 1000)[0]!.bytes.length).toBe(3200);
  });
});

test('Contact Center: each participant\'s audio carries its channel_id, the mixed stream channel 1 (spec §7)', async () => {
  const { audio } = await program({
    product: 'contact_center',
    participants: [{ ...bob, id: 'customer', channel_id: 1 }, { ...alice, id: 'agent', channel_id: 2 }],
    timeline: [{ at: 0, speak: { who: 'customer', line: 1 } }, { at: '1s', speak: { who: 'agent', line: 0 } }],
  });
  const cc = { ...everyone, product: 'contact_center' };
  expect(tick(audio.audio(cc, L16, 20, true), ORIGIN + 2200).map((e) => [e.sender.userName, e.sender.channelId])).toEqual([['Bob Okafor', 1], ['Alice Chen', 2]]);
  expect(tick(audio.audio(cc, L16, 20, false), ORIGIN + 2200)[0]!.sender).toEqual({ userId: 0, channelId: 1 });
});

describe('speed', () => {
  test('compresses the timeline and the speech together; transcripts stay aligned with the audio', async () => {
    const scenario = {
      participants: [alice, bob],
      timeline: [
        { at: '2s', speak: { who: 'alice', line: 0 } },
        { at: '+1s', speak: { who: 'bob', text: 'Sure, sounds good to me.' } },
        { at: '10s', chat: { from: 'bob', text: 'link' } },
      ],
    };
    const plan = await planOf(scenario);
    const slow = layoutPlan(plan, 1);
    const fast = layoutPlan(plan, 4);
    const at = (l: Layout, kind: string) => l.events.filter((e) => e.kind === 'action' && e.event.action.kind === kind).map((e) => e.at);
    expect(at(fast, 'chat')).toEqual(at(slow, 'chat').map((t) => t / 4));
    expect(at(fast, 'speak')).toEqual(at(slow, 'speak').map((t) => t / 4));
    expect(fast.endAt).toBe(slow.endAt / 4);
    for (const [i, u] of fast.utterances.entries()) {
      expect(u.frames).toBe(Math.ceil(slow.utterances[i]!.frames / 4));
      expect(u.endMs).toBeLessThanOrEqual((u.firstFrame + u.frames) * 20);
      expect(u.endMs - u.startMs).toBeGreaterThan(0);
    }
    // Below 1, the timeline stretches but speech keeps its length.
    expect(layoutPlan(plan, 0.5).utterances[0]!.frames).toBe(slow.utterances[0]!.frames);
  });
});

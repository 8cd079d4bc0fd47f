// A scenario's audio as a MediaProgram (src/engine/media-program.ts): the media pump asks, per tick, which frame
// goes out, and gets elements of shared, already-encoded arrays (spec §8: the engine paces, it never encodes).
//
// - Dialogue lines reuse the speaker tracks speech-program.ts encoded once per format: a line is a run of 20 ms
//   frames of its speaker's track, nothing is re-encoded.
// - Free text is babble (babble.ts), rendered to PCM once per utterance and encoded once per format.
// - Crosstalk in the mixed stream is mixed from 16 kHz PCM once per overlap and format (Opus cannot be mixed:
//   the mock has no Opus encoder, so the newest voice is heard there). Multi-stream audio sends each talker's
//   own frames and nothing for silence.
// - Opus babble: without an encoder, free text in Opus plays packets of recorded speech of the same voice
//   (another speaker's for the babble voice), cut to the utterance's length; the transcript still has the text.
import type { AudioEmit, AudioSender, AudioTrack, MediaProgram, ProgramMeeting } from '../engine/media-program.ts';
import { encodeG722 } from '../media/audio/g722.ts';
import { encodeMulaw, int16ToLeBytes, leBytesToInt16, monoToStereo, resample } from '../media/audio/pcm.ts';
import { frameBytes, validateAudioFormat } from '../media/audio/speech-program.ts';
import type { AudioFormat, SpeechProgram } from '../media/types.ts';
import { synthesizeBabble } from './babble.ts';
import type { SpeechSource } from './compile.ts';
import { BASE_MS } from './dialogue.ts';
import type { Layout, PlacedUtterance } from './layout.ts';

type Frames = readonly (Uint8Array | null)[];
interface Ref { frames: Frames; index: number }

const PCM16K: AudioFormat = { codec: 'L16', sampleRate: 16000, channels: 1 };
const SAMPLES_PER_FRAME = 16000 * BASE_MS / 1000;

function fmtKey(f: AudioFormat): string {
  return `${f.codec}|${f.sampleRate}|${f.channels}`;
}

function sourceKey(s: SpeechSource): string {
  return s.kind === 'line' ? `line:${s.line.index}` : `babble:${s.seed}:${s.voice.pitchHz}:${s.text}`;
}

/** 16 kHz mono PCM in a raw format, cut into 20 ms frames (L16 any rate and channels, G.711 µ-law, G.722). */
export function encodePcmFrames(pcm: Int16Array, f: AudioFormat): Uint8Array[] {
  let bytes: Uint8Array;
  switch (f.codec) {
    case 'L16': {
      const r = f.sampleRate === 16000 ? pcm : resample(pcm, 16000, f.sampleRate);
      bytes = int16ToLeBytes(f.channels === 2 ? monoToStereo(r) : r);
      break;
    }
    case 'G711': bytes = encodeMulaw(resample(pcm, 16000, 8000)); break;
    case 'G722': bytes = encodeG722(pcm); break;
    case 'OPUS': throw new Error('internal: Opus is not encoded by the mock');
  }
  const size = frameBytes(f, BASE_MS);
  const n = Math.floor(pcm.length / SAMPLES_PER_FRAME);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const chunk = bytes.subarray(i * size, (i + 1) * size);
    // A resampler's rounding may leave the last frame short: pad it with silence (zero bytes are silence in L16).
    if (chunk.length === size) out.push(chunk);
    else { const full = new Uint8Array(size).fill(f.codec === 'G711' ? 0xff : 0); full.set(chunk); out.push(full); }
  }
  return out;
}

interface Segment { start: number; end: number; utterances: PlacedUtterance[] }

export class ScenarioAudio implements MediaProgram {
  readonly scripted = true;
  /** The scenario's origin (ms epoch on the meeting's 20 ms grid); null until the timeline starts. */
  origin: number | null = null;
  private readonly segments: Segment[] = [];
  private readonly byUser = new Map<number, PlacedUtterance[]>();
  private readonly cache = new Map<string, Frames>();
  private readonly pcmCache = new Map<string, Int16Array>();

  constructor(private readonly layout: Layout, private readonly speech: SpeechProgram) {
    // Segments of constant talkers, for the mixed stream.
    const edges = new Set<number>();
    for (const u of layout.utterances) { edges.add(u.firstFrame); edges.add(u.firstFrame + u.frames); }
    const sorted = [...edges].sort((a, b) => a - b);
    let k = 0;
    const open: PlacedUtterance[] = [];
    for (let e = 0; e < sorted.length - 1; e++) {
      const start = sorted[e]!;
      const end = sorted[e + 1]!;
      for (let i = open.length - 1; i >= 0; i--) if (open[i]!.firstFrame + open[i]!.frames <= start) open.splice(i, 1);
      while (k < layout.utterances.length && layout.utterances[k]!.firstFrame <= start) open.push(layout.utterances[k++]!);
      const live = open.filter((u) => u.firstFrame + u.frames > start);
      if (live.length) this.segments.push({ start, end, utterances: live.slice() });
    }
    for (const u of layout.utterances) {
      let list = this.byUser.get(u.who.userId);
      if (!list) this.byUser.set(u.who.userId, list = []);
      list.push(u);
    }
  }

  audio(meeting: ProgramMeeting, format: AudioFormat, frameMs: number, multi: boolean): AudioTrack {
    validateAudioFormat(format, frameMs);
    const k = frameMs / BASE_MS;
    const cc = meeting.product === 'contact_center';
    const mixedSender: AudioSender = { userId: 0, channelId: cc ? 1 : undefined };
    const silence = this.silence(format);
    const senders = new Map<number, AudioSender>();
    for (const u of this.layout.utterances) {
      if (!senders.has(u.who.userId)) senders.set(u.who.userId, { userId: u.who.userId, userName: u.who.userName, channelId: u.who.channelId });
    }
    // Encode everything this format needs now (babble, crosstalk mixes), not inside a paced tick.
    for (const u of this.layout.utterances) if (u.speech.source.kind === 'babble') this.babbleFrames(u.speech.source, u.speech.frames, format);
    if (format.codec !== 'OPUS' && !multi) for (const s of this.segments) if (s.utterances.length > 1) this.regionFrames(s, format);
    const silenceLong: Frames = k === 1 ? silence.frames : [concat(Array.from({ length: k }, () => silence.frames[0]!))];
    const users = [...this.byUser.keys()];
    return {
      frame: (ts: number, emit: AudioEmit) => {
        const origin = this.origin;
        const b0 = origin === null ? -1 : Math.round((ts - origin) / BASE_MS);
        if (!multi) {
          if (b0 < 0) { emit(silenceLong, 0, mixedSender); return; }
          if (k === 1) { const r = this.mixedRef(meeting, b0, format) ?? silence; emit(r.frames, r.index, mixedSender); return; }
          const refs: (Ref | null)[] = [];
          for (let i = 0; i < k; i++) refs.push(this.mixedRef(meeting, b0 + i, format));
          if (refs.every((r) => r === null)) { emit(silenceLong, 0, mixedSender); return; }
          emit([concat(refs.map((r) => bytesOf(r ?? silence)))], 0, mixedSender);
          return;
        }
        // Multi-stream (spec §8): one message per talking participant, nothing for silence or absence.
        if (b0 < 0) return;
        for (const userId of users) {
          if (!meeting.isPresent(userId)) continue;
          const sender = senders.get(userId)!;
          if (k === 1) { const r = this.userRef(userId, b0, format); if (r) emit(r.frames, r.index, sender); continue; }
          const refs: (Ref | null)[] = [];
          for (let i = 0; i < k; i++) refs.push(this.userRef(userId, b0 + i, format));
          if (refs.every((r) => r === null)) continue;
          emit([concat(refs.map((r) => bytesOf(r ?? silence)))], 0, sender);
        }
      },
    };
  }

  // ---- lookups ----

  private segmentAt(b: number): Segment | null {
    const s = this.segments;
    let lo = 0;
    let hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const seg = s[mid]!;
      if (b < seg.start) hi = mid - 1;
      else if (b >= seg.end) lo = mid + 1;
      else return seg;
    }
    return null;
  }

  /** The mixed stream's frame b (from the origin), or null for silence. */
  private mixedRef(meeting: ProgramMeeting, b: number, f: AudioFormat): Ref | null {
    const seg = this.segmentAt(b);
    if (!seg) return null;
    const talking = seg.utterances.filter((u) => meeting.isPresent(u.who.userId));
    if (talking.length === 0) return null;
    if (talking.length > 1 && f.codec !== 'OPUS' && talking.length === seg.utterances.length) {
      return { frames: this.regionFrames(seg, f), index: b - seg.start };
    }
    // One voice, or Opus (no mixing) or someone of the overlap left: the newest voice.
    const u = talking[talking.length - 1]!;
    return this.utteranceRef(u, b - u.firstFrame, f);
  }

  /** A participant's own frame b (multi-stream), or null when they are silent. */
  private userRef(userId: number, b: number, f: AudioFormat): Ref | null {
    const list = this.byUser.get(userId);
    if (!list) return null;
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.firstFrame <= b) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    // The newest of their utterances that covers b (their own overlaps: the newest wins).
    for (let i = found; i >= 0 && i > found - 8; i--) {
      const u = list[i]!;
      if (b < u.firstFrame + u.frames) return this.utteranceRef(u, b - u.firstFrame, f);
    }
    return null;
  }

  private utteranceRef(u: PlacedUtterance, k: number, f: AudioFormat): Ref {
    const s = u.speech.source;
    if (s.kind === 'line') return { frames: this.speech.speakerFrames(s.line.speaker, f, BASE_MS), index: s.line.spanStartMs / BASE_MS + k };
    return { frames: this.babbleFrames(s, u.speech.frames, f), index: k };
  }

  // ---- encoded frames, cached per (content, format) ----

  private silence(f: AudioFormat): Ref {
    const key = `silence|${fmtKey(f)}`;
    let frames = this.cache.get(key);
    if (!frames) {
      // The dialogue loop ends in >= 1 s of silence: its last frame is silence in every format (Opus included).
      const mixed = this.speech.mixedFrames(f, BASE_MS);
      frames = [mixed[mixed.length - 1]!];
      this.cache.set(key, frames);
    }
    return { frames, index: 0 };
  }

  private babblePcm(s: Extract<SpeechSource, { kind: 'babble' }>): Int16Array {
    const key = sourceKey(s);
    let pcm = this.pcmCache.get(key);
    if (!pcm) { pcm = synthesizeBabble(s.text, s.voice, s.seed); this.pcmCache.set(key, pcm); }
    return pcm;
  }

  private babbleFrames(s: Extract<SpeechSource, { kind: 'babble' }>, count: number, f: AudioFormat): Frames {
    const key = `${sourceKey(s)}|${fmtKey(f)}`;
    let frames = this.cache.get(key);
    if (frames) return frames;
    if (f.codec === 'OPUS') {
      // No Opus encoder: recorded speech packets of this voice (all voices for babble), cut to length.
      const voices = this.speech.speakers.some((v) => v.key === s.voiceKey) ? [s.voiceKey] : this.speech.speakers.map((v) => v.key);
      const pool: Uint8Array[] = [];
      for (const key2 of voices) for (const p of this.speech.speakerFrames(key2, f, BASE_MS)) if (p) pool.push(p);
      const start = s.seed % Math.max(1, pool.length);
      frames = Array.from({ length: count }, (_, i) => pool[(start + i) % pool.length] ?? null);
    } else {
      frames = encodePcmFrames(this.babblePcm(s), f);
    }
    this.cache.set(key, frames);
    return frames;
  }

  /** 16 kHz PCM of an utterance's frames [k0, k0 + n). */
  private utterancePcm(u: PlacedUtterance, k0: number, n: number): Int16Array {
    const out = new Int16Array(n * SAMPLES_PER_FRAME);
    const s = u.speech.source;
    if (s.kind === 'babble') {
      const pcm = this.babblePcm(s);
      out.set(pcm.subarray(k0 * SAMPLES_PER_FRAME, Math.min(pcm.length, (k0 + n) * SAMPLES_PER_FRAME)));
      return out;
    }
    const track = this.speech.speakerFrames(s.line.speaker, PCM16K, BASE_MS);
    for (let i = 0; i < n; i++) {
      const fr = track[s.line.spanStartMs / BASE_MS + k0 + i];
      if (fr) out.set(leBytesToInt16(fr), i * SAMPLES_PER_FRAME);
    }
    return out;
  }

  /** Crosstalk: the overlap's voices mixed once per format (same overlap content → same cached frames). */
  private regionFrames(seg: Segment, f: AudioFormat): Frames {
    const n = seg.end - seg.start;
    const key = `mix|${seg.utterances.map((u) => `${sourceKey(u.speech.source)}@${seg.start - u.firstFrame}`).join('+')}|${n}|${fmtKey(f)}`;
    let frames = this.cache.get(key);
    if (frames) return frames;
    const sum = new Int32Array(n * SAMPLES_PER_FRAME);
    for (const u of seg.utterances) {
      const pcm = this.utterancePcm(u, seg.start - u.firstFrame, n);
      for (let i = 0; i < sum.length; i++) sum[i]! += pcm[i]!;
    }
    const mixed = new Int16Array(sum.length);
    for (let i = 0; i < sum.length; i++) mixed[i] = Math.max(-32768, Math.min(32767, sum[i]!));
    frames = encodePcmFrames(mixed, f);
    this.cache.set(key, frames);
    return frames;
  }
}

function bytesOf(r: Ref): Uint8Array {
  return r.frames[r.index] ?? new Uint8Array(0);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

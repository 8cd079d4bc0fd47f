// Live audio for meetings fed through /ingest: one bounded 48 kHz ring per participant on the meeting's media
// clock, and a producer that turns a window of it into the bytes of one negotiated format (spec §8) once per
// tick, shared by every app with that format. Runtime-neutral and clock-free: callers pass sample indexes.
import type { AudioFormat } from '../media/types.ts';
import { encodeMulaw, int16ToLeBytes, monoToStereo, resample } from '../media/audio/pcm.ts';
import { G722Encoder } from '../media/audio/g722.ts';
import { INGEST_AUDIO_RATE } from './protocol.ts';

/** Samples per millisecond of the internal (and ingest) rate. */
export const SPM = INGEST_AUDIO_RATE / 1000;
/** The ring keeps this much audio per participant (bounded memory: 2 s × 48 kHz × 2 bytes = 192 KB). */
const RING_SAMPLES = 2000 * SPM;
/**
 * How far behind real time the mixer reads: the room a chunk has to arrive late (network and browser jitter).
 * A chunk captured at t is sent by the first tick after t + JITTER_MS.
 */
export const JITTER_MS = 80;
/** Resampler context read on each side of a window so chunk edges are exact (>= the widest filter half-width). */
const GUARD = 192;
/** A write position more than this ahead of arrival time is resynchronised (the feeder's clock runs fast). */
const MAX_AHEAD = 120 * SPM;
/** …or this far behind it (the chunk would reach the reader too late). */
const MAX_BEHIND = (JITTER_MS - 20) * SPM;
/** Below this RMS a window is silence (about -60 dBFS): multi-stream sends nothing (spec §8). */
export const SILENCE_RMS = 32;

export class ParticipantAudio {
  private readonly ring = new Int16Array(RING_SAMPLES);
  /** Absolute index (samples since the meeting's media origin) of the next sample to write. */
  private wpos: number | null = null;
  /** One past the highest index written; [high - RING, high) is readable, the rest reads as silence. */
  private high = 0;
  /** Capture time of the last sample of recent chunks, for capture-to-send latency. Bounded. */
  private readonly captures: { end: number; capture: number }[] = [];
  resyncs = 0;

  /** Appends mono samples that arrived at absolute index `nowIdx`. */
  write(samples: Int16Array, nowIdx: number, captureMs: number): void {
    const n = samples.length;
    if (n === 0) return;
    const natural = nowIdx - n;
    if (this.wpos === null || this.wpos > natural + MAX_AHEAD || this.wpos < natural - MAX_BEHIND) {
      if (this.wpos !== null) this.resyncs++;
      this.wpos = natural;
    }
    const start = this.wpos;
    // A gap since the last write reads as silence, not as what the ring held a lap ago.
    if (start > this.high) this.fill(Math.max(this.high, start - RING_SAMPLES), start);
    let src = n > RING_SAMPLES ? n - RING_SAMPLES : 0;
    for (let i = start + src; src < n; i++, src++) this.ring[((i % RING_SAMPLES) + RING_SAMPLES) % RING_SAMPLES] = samples[src]!;
    this.wpos = start + n;
    if (this.wpos > this.high) this.high = this.wpos;
    if (this.captures.length >= 256) this.captures.shift();
    this.captures.push({ end: this.wpos, capture: captureMs });
  }

  private fill(from: number, to: number): void {
    for (let i = from; i < to; i++) this.ring[((i % RING_SAMPLES) + RING_SAMPLES) % RING_SAMPLES] = 0;
  }

  /** Adds samples [from, to) into `acc` (silence where nothing was written). */
  addTo(acc: Int32Array, from: number, to: number): void {
    const lo = Math.max(from, this.high - RING_SAMPLES, 0);
    const hi = Math.min(to, this.high);
    for (let i = lo; i < hi; i++) acc[i - from]! += this.ring[i % RING_SAMPLES]!;
  }

  /** Copies samples [from, to). */
  read(from: number, to: number): Int16Array {
    const out = new Int16Array(to - from);
    const lo = Math.max(from, this.high - RING_SAMPLES, 0);
    const hi = Math.min(to, this.high);
    for (let i = lo; i < hi; i++) out[i - from] = this.ring[i % RING_SAMPLES]!;
    return out;
  }

  /** RMS of [from, to) (0 where nothing was written). */
  level(from: number, to: number): number {
    const lo = Math.max(from, this.high - RING_SAMPLES, 0);
    const hi = Math.min(to, this.high);
    if (to <= from) return 0;
    let acc = 0;
    for (let i = lo; i < hi; i++) { const s = this.ring[i % RING_SAMPLES]!; acc += s * s; }
    return Math.sqrt(acc / (to - from));
  }

  /** Capture times of chunks whose last sample is before `upTo` (and forgets them). */
  takeCaptures(upTo: number): number[] {
    let k = 0;
    while (k < this.captures.length && this.captures[k]!.end <= upTo) k++;
    return k === 0 ? [] : this.captures.splice(0, k).map((c) => c.capture);
  }
}

/** Stereo s16le frame payload to mono samples (channel average). */
export function pcmToMono(payload: Uint8Array, channels: 1 | 2): Int16Array {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const n = payload.byteLength / (2 * channels);
  const out = new Int16Array(n);
  if (channels === 1) for (let i = 0; i < n; i++) out[i] = v.getInt16(2 * i, true);
  else for (let i = 0; i < n; i++) out[i] = (v.getInt16(4 * i, true) + v.getInt16(4 * i + 2, true)) >> 1;
  return out;
}

/** A negotiated audio format at a send rate, in one mode: the unit that is produced once per tick. */
export interface LiveAudioKey {
  format: AudioFormat;
  sendRate: number;
  multi: boolean;
}

export function keyString(k: LiveAudioKey): string {
  return `${k.format.codec}|${k.format.sampleRate}|${k.format.channels}|${k.sendRate}|${k.multi ? 'multi' : 'mixed'}`;
}

/** One produced frame, in a one-element array so the media packer caches its message text across apps. */
export type SharedFrame = readonly [Uint8Array];

export interface TickAudio {
  /** Mixed mode: the mix (silence when nobody talks). */
  mixed: SharedFrame | null;
  /** Multi-stream mode: one frame per talking participant. */
  perUser: Map<number, SharedFrame>;
}

/** Encodes windows of 48 kHz mono (with GUARD samples of context each side) into one format, keeping codec state. */
class FormatEncoder {
  private readonly g722: G722Encoder | null;
  constructor(private readonly key: LiveAudioKey) {
    this.g722 = key.format.codec === 'G722' ? new G722Encoder() : null;
  }

  encode(window: Int16Array): Uint8Array {
    const { format } = this.key;
    const rate = format.sampleRate;
    const n = (this.key.sendRate * rate) / 1000;
    let pcm: Int16Array;
    if (rate === INGEST_AUDIO_RATE) pcm = window.subarray(GUARD, GUARD + n);
    else {
      // Output sample k sits at input GUARD·rate/48k + k: the guard keeps the filter away from the edges.
      const k0 = (GUARD * rate) / INGEST_AUDIO_RATE;
      pcm = resample(window, INGEST_AUDIO_RATE, rate).subarray(k0, k0 + n);
    }
    switch (format.codec) {
      case 'G711': return encodeMulaw(pcm);
      case 'G722': return this.g722!.encode(pcm);
      default: return int16ToLeBytes(format.channels === 2 ? monoToStereo(pcm) : pcm.slice());
    }
  }
}

interface KeyState {
  key: LiveAudioKey;
  lastTick: number;
  result: TickAudio;
  mixedEncoder: FormatEncoder;
  userEncoders: Map<number, FormatEncoder>;
  lastUsed: number;
}

export interface LiveSource {
  userId: number;
  audio: ParticipantAudio;
}

/**
 * Produces live audio per (format, send_rate, mode) and tick: the first app asking for tick T computes it, the
 * others with the same key get the same bytes (no per-app encoding).
 */
export class LiveAudioProducer {
  private readonly states = new Map<string, KeyState>();
  private lastSweep = 0;

  /** Called with the capture times of audio that is being sent now. */
  onSent: (userId: number, captures: number[]) => void = () => {};

  /**
   * Audio for the tick at media time `tickMs` (ms since the media origin, on the send_rate grid): the window
   * [tickMs − sendRate − JITTER_MS, tickMs − JITTER_MS).
   */
  produce(key: LiveAudioKey, tickMs: number, sources: readonly LiveSource[]): TickAudio {
    const ks = keyString(key);
    let st = this.states.get(ks);
    if (!st) {
      st = { key, lastTick: Number.NaN, result: { mixed: null, perUser: new Map() }, mixedEncoder: new FormatEncoder(key), userEncoders: new Map(), lastUsed: tickMs };
      this.states.set(ks, st);
    }
    st.lastUsed = tickMs;
    if (st.lastTick === tickMs) return st.result;
    st.lastTick = tickMs;
    const to = (tickMs - JITTER_MS) * SPM;
    const from = to - key.sendRate * SPM;
    for (const s of sources) {
      const caps = s.audio.takeCaptures(to);
      if (caps.length) this.onSent(s.userId, caps);
    }
    const result: TickAudio = { mixed: null, perUser: new Map() };
    if (!key.multi) {
      // Mixed: the sum of everyone, clipped (spec §8: user_id 0).
      const acc = new Int32Array(to - from + 2 * GUARD);
      for (const s of sources) s.audio.addTo(acc, from - GUARD, to + GUARD);
      const mix = new Int16Array(acc.length);
      for (let i = 0; i < acc.length; i++) { const v = acc[i]!; mix[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v; }
      result.mixed = [st.mixedEncoder.encode(mix)];
    } else {
      // Multi-stream: one frame per participant with sound; silence sends nothing (spec §8).
      for (const s of sources) {
        let enc = st.userEncoders.get(s.userId);
        if (s.audio.level(from, to) < SILENCE_RMS) continue;
        if (!enc) { enc = new FormatEncoder(key); st.userEncoders.set(s.userId, enc); }
        result.perUser.set(s.userId, [enc.encode(s.audio.read(from - GUARD, to + GUARD))]);
      }
      for (const id of st.userEncoders.keys()) if (!sources.some((s) => s.userId === id)) st.userEncoders.delete(id);
    }
    st.result = result;
    this.sweep(tickMs);
    return result;
  }

  /** Forgets formats nobody asked for in 5 s (their codec state is stale anyway). */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (const [k, st] of this.states) if (now - st.lastUsed > 5000) this.states.delete(k);
  }

  get formats(): number {
    return this.states.size;
  }
}

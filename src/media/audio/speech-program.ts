// The built-in dialogue (data/speech, made by scripts/generate-speech.sh) as a SpeechProgram: real speech with an
// aligned transcript, framed in every audio format spec §8 allows. The 16 kHz mix is built from the clips at
// startup; each (track, format, frameMs) is encoded once on first use and the same array is handed to every
// stream afterwards (the engine paces frames, it never encodes them).
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { AudioFormat, ChatLine, SpeechProgram, Speaker, Utterance } from '../types.ts';
import { demuxOggOpus } from './ogg.ts';
import { encodeMulaw, int16ToLeBytes, mixClips, monoToStereo, resample } from './pcm.ts';
import { parseWav } from './wav.ts';

/** Rate of the clips and of the mixed master track. */
export const MASTER_RATE = 16000;
/** Opus and G.722 are pre-encoded on this grid; it is also the smallest `send_rate` (spec §8). */
export const BASE_FRAME_MS = 20;
const MAX_FRAME_MS = 1000;
const MIN_TAIL_MS = MAX_FRAME_MS;
/** G.722 at 16 kHz: 64 kbit/s = 8 bytes per ms. */
const G722_BYTES_PER_MS = 8;

/** data/speech in this checkout. */
export const DEFAULT_SPEECH_DIR = fileURLToPath(new URL('../../../data/speech', import.meta.url));

// ---- transcript.json (written by scripts/generate-speech.ts, read here) ----

const relativeFile = z
  .string()
  .min(1)
  .refine((p) => !isAbsolute(p) && !normalize(p).startsWith('..'), { error: 'must be a relative path inside the data directory' });
const ms = z.number().int().nonnegative();

export const transcriptSchema = z
  .object({
    format: z.literal('rtms-mock-speech/1'),
    /** sha256 of dialogue.json + generator version: lets the generator skip work when nothing changed. */
    source_sha256: z.string().regex(/^[0-9a-f]{64}$/),
    sample_rate: z.literal(MASTER_RATE),
    duration_ms: ms.positive().multipleOf(BASE_FRAME_MS),
    speakers: z
      .array(
        z.object({
          key: z.string().regex(/^[a-z][a-z0-9_-]*$/),
          user_id: z.number().int().positive(),
          user_name: z.string().min(1),
          voice: z.string().min(1),
        }),
      )
      .min(1),
    utterances: z
      .array(
        z.object({
          speaker: z.string(),
          text: z.string().min(1),
          start_ms: ms,
          end_ms: ms,
          /** 16 kHz mono s16le WAV of exactly end_ms - start_ms. */
          clip: relativeFile,
          /** The 20 ms-grid hull of [start_ms, end_ms): what the per-speaker encoded clips cover. */
          span_start_ms: ms.multipleOf(BASE_FRAME_MS),
          span_end_ms: ms.multipleOf(BASE_FRAME_MS),
          g722: relativeFile,
          opus_mono: relativeFile,
          opus_stereo: relativeFile,
        }),
      )
      .min(1),
    chat: z.array(z.object({ speaker: z.string(), text: z.string().min(1), at_ms: ms })),
    mixed: z.object({ g722: relativeFile, opus_mono: relativeFile, opus_stereo: relativeFile }),
    /** How the encoders' delays were compensated (informative). */
    codec_delay: z.object({ g722_samples: z.number().int().nonnegative(), opus_pre_skip: z.number().int().nonnegative() }),
  })
  .superRefine((t, ctx) => {
    const keys = new Set(t.speakers.map((s) => s.key));
    if (keys.size !== t.speakers.length) ctx.addIssue({ code: 'custom', path: ['speakers'], message: 'duplicate speaker key' });
    let prevStart = 0;
    const lastEnd = new Map<string, number>();
    t.utterances.forEach((u, i) => {
      const at = (field: string) => ['utterances', i, field];
      if (!keys.has(u.speaker)) ctx.addIssue({ code: 'custom', path: at('speaker'), message: `unknown speaker "${u.speaker}"` });
      if (u.end_ms <= u.start_ms) ctx.addIssue({ code: 'custom', path: at('end_ms'), message: 'must be after start_ms' });
      // The loop must end in >= 1 s of silence: a frame count that does not divide the loop then only drops
      // silence, and the G.722 idle pattern can be taken from the tail.
      if (u.end_ms > t.duration_ms - MIN_TAIL_MS) {
        ctx.addIssue({ code: 'custom', path: at('end_ms'), message: `must be at least ${MIN_TAIL_MS} ms before duration_ms` });
      }
      if (u.start_ms < prevStart) ctx.addIssue({ code: 'custom', path: at('start_ms'), message: 'utterances must be sorted by start_ms' });
      if ((lastEnd.get(u.speaker) ?? -1) > u.start_ms) {
        ctx.addIssue({ code: 'custom', path: at('start_ms'), message: `overlaps an earlier utterance of "${u.speaker}"` });
      }
      const hullStart = Math.floor(u.start_ms / BASE_FRAME_MS) * BASE_FRAME_MS;
      const hullEnd = Math.ceil(u.end_ms / BASE_FRAME_MS) * BASE_FRAME_MS;
      if (u.span_start_ms !== hullStart) ctx.addIssue({ code: 'custom', path: at('span_start_ms'), message: `must be ${hullStart}` });
      if (u.span_end_ms !== hullEnd) ctx.addIssue({ code: 'custom', path: at('span_end_ms'), message: `must be ${hullEnd}` });
      prevStart = u.start_ms;
      lastEnd.set(u.speaker, u.end_ms);
    });
    t.chat.forEach((c, i) => {
      if (!keys.has(c.speaker)) ctx.addIssue({ code: 'custom', path: ['chat', i, 'speaker'], message: `unknown speaker "${c.speaker}"` });
      if (c.at_ms >= t.duration_ms) ctx.addIssue({ code: 'custom', path: ['chat', i, 'at_ms'], message: 'beyond duration_ms' });
    });
  });

export type TranscriptFile = z.infer<typeof transcriptSchema>;

/** "file: field a.b.0: message" for the first few zod issues. */
export function describeZodError(file: string, error: z.ZodError): string {
  const issues = error.issues.slice(0, 5).map((i) => `field ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  const more = error.issues.length > 5 ? `; and ${error.issues.length - 5} more` : '';
  return `${file}: invalid: ${issues.join('; ')}${more}`;
}

export async function readTranscript(dataDir: string): Promise<TranscriptFile> {
  const file = join(dataDir, 'transcript.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read JSON (run scripts/generate-speech.sh): ${(err as Error).message}`);
  }
  const parsed = transcriptSchema.safeParse(json);
  if (!parsed.success) throw new Error(describeZodError(file, parsed.error));
  return parsed.data;
}

// ---- formats ----

/** Throws unless spec §8 allows this raw audio format at this send rate. */
export function validateAudioFormat(format: AudioFormat, frameMs: number): void {
  const { codec, sampleRate, channels } = format;
  const desc = `${codec} ${sampleRate} Hz ${channels === 2 ? 'stereo' : channels === 1 ? 'mono' : `${channels} channels`}`;
  if (!Number.isInteger(frameMs) || frameMs < BASE_FRAME_MS || frameMs > MAX_FRAME_MS || frameMs % BASE_FRAME_MS !== 0) {
    throw new Error(`frameMs ${frameMs} is invalid: send_rate must be a multiple of 20 ms up to 1000 ms (spec §8)`);
  }
  if (channels !== 1 && channels !== 2) throw new Error(`${desc}: channels must be 1 or 2`);
  switch (codec) {
    case 'L16':
      if (![8000, 16000, 32000, 48000].includes(sampleRate)) throw new Error(`${desc}: L16 allows 8/16/32/48 kHz (spec §8)`);
      return;
    case 'G711':
      if (sampleRate !== 8000 || channels !== 1) throw new Error(`${desc}: G711 is 8 kHz mono only (spec §8)`);
      return;
    case 'G722':
      if (sampleRate !== 16000 || channels !== 1) throw new Error(`${desc}: G722 is 16 kHz mono only (spec §8)`);
      return;
    case 'OPUS':
      if (sampleRate !== 48000) throw new Error(`${desc}: OPUS is 48 kHz only (spec §8)`);
      // The Opus tracks are pre-encoded as 20 ms packets; one message carries exactly one packet.
      if (frameMs !== BASE_FRAME_MS) throw new Error(`${desc}: OPUS frames are 20 ms packets; frameMs ${frameMs} is not supported`);
      return;
    default:
      throw new Error(`unknown audio codec ${JSON.stringify(codec)} (expected L16, G711, G722 or OPUS)`);
  }
}

/** Bytes in one frame of `format` lasting `frameMs` (Opus is variable: returns NaN). */
export function frameBytes(format: AudioFormat, frameMs: number): number {
  switch (format.codec) {
    case 'L16':
      return (format.sampleRate / 1000) * frameMs * 2 * format.channels;
    case 'G711':
      return 8 * frameMs;
    case 'G722':
      return G722_BYTES_PER_MS * frameMs;
    case 'OPUS':
      return Number.NaN;
  }
}

// ---- loading ----

interface Track {
  /** 16 kHz mono master. */
  pcm: Int16Array;
  /** G.722 bytes for the whole loop. */
  g722: Uint8Array;
  /** One Opus packet per 20 ms block; null where the track carries nothing (per-speaker tracks only). */
  opus: { 1: (Uint8Array | null)[]; 2: (Uint8Array | null)[] };
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    throw new Error(`${file}: cannot read (run scripts/generate-speech.sh): ${(err as Error).message}`);
  }
}

async function readOpus(file: string, channels: 1 | 2, expectedPackets: number): Promise<Uint8Array[]> {
  const { head, packets } = demuxOggOpus(await readBytes(file), file);
  if (head.channels !== channels) throw new Error(`${file}: OpusHead field channels: ${head.channels}, expected ${channels}`);
  if (packets.length !== expectedPackets) throw new Error(`${file}: ${packets.length} Opus packets, expected ${expectedPackets}`);
  packets.forEach((p, i) => {
    if (p.length === 0) throw new Error(`${file}: packet ${i} is empty`);
  });
  return packets;
}

/** Does [startMs, endMs) intersect frame i of length frameMs? */
function overlapsFrame(u: { startMs: number; endMs: number }, i: number, frameMs: number): boolean {
  return u.startMs < (i + 1) * frameMs && u.endMs > i * frameMs;
}

export async function loadSpeechProgram(dataDir: string = DEFAULT_SPEECH_DIR): Promise<SpeechProgram> {
  const t = await readTranscript(dataDir);
  const durationMs = t.duration_ms;
  const blocks = durationMs / BASE_FRAME_MS;
  const masterLength = (durationMs * MASTER_RATE) / 1000;
  const path = (rel: string) => join(dataDir, rel);

  const speakers: Speaker[] = t.speakers.map((s) => ({ key: s.key, userId: s.user_id, userName: s.user_name }));
  const utterances: Utterance[] = t.utterances.map((u) => ({ speaker: u.speaker, text: u.text, startMs: u.start_ms, endMs: u.end_ms }));
  const chat: ChatLine[] = t.chat.map((c) => ({ speaker: c.speaker, text: c.text, atMs: c.at_ms })).sort((a, b) => a.atMs - b.atMs);

  // Clips, read in parallel; each must fill its utterance exactly so the transcript times are the audio's.
  const clips = await Promise.all(
    t.utterances.map(async (u) => {
      const file = path(u.clip);
      const wav = parseWav(await readBytes(file), file);
      if (wav.sampleRate !== MASTER_RATE || wav.channels !== 1) {
        throw new Error(`${file}: expected 16000 Hz mono, got ${wav.sampleRate} Hz ${wav.channels} channels`);
      }
      const expected = ((u.end_ms - u.start_ms) * MASTER_RATE) / 1000;
      if (wav.samples.length !== expected) {
        throw new Error(`${file}: ${wav.samples.length} samples but utterance is ${u.end_ms - u.start_ms} ms (${expected} samples)`);
      }
      return { samples: wav.samples, offset: (u.start_ms * MASTER_RATE) / 1000 };
    }),
  );

  const mixedG722 = await readBytes(path(t.mixed.g722));
  if (mixedG722.length !== durationMs * G722_BYTES_PER_MS) {
    throw new Error(`${path(t.mixed.g722)}: ${mixedG722.length} bytes, expected ${durationMs * G722_BYTES_PER_MS} (8 per ms)`);
  }
  // The loop ends in >= 1 s of silence (checked above), so its last block is the encoder's idle pattern;
  // per-speaker G.722 streams use it where that speaker is silent inside a long frame.
  const g722Silence = mixedG722.slice(mixedG722.length - BASE_FRAME_MS * G722_BYTES_PER_MS);

  const [mixedOpus1, mixedOpus2] = await Promise.all([
    readOpus(path(t.mixed.opus_mono), 1, blocks),
    readOpus(path(t.mixed.opus_stereo), 2, blocks),
  ]);
  const tracks = new Map<string, Track>();
  tracks.set('', { pcm: mixClips(masterLength, clips), g722: mixedG722, opus: { 1: mixedOpus1, 2: mixedOpus2 } });

  for (const s of t.speakers) {
    const own = t.utterances.map((u, i) => ({ u, clip: clips[i]! })).filter((x) => x.u.speaker === s.key);
    const g722 = new Uint8Array(durationMs * G722_BYTES_PER_MS);
    for (let b = 0; b < blocks; b++) g722.set(g722Silence, b * g722Silence.length);
    const opus1: (Uint8Array | null)[] = new Array<Uint8Array | null>(blocks).fill(null);
    const opus2: (Uint8Array | null)[] = new Array<Uint8Array | null>(blocks).fill(null);
    for (const { u } of own) {
      const spanMs = u.span_end_ms - u.span_start_ms;
      const g = await readBytes(path(u.g722));
      if (g.length !== spanMs * G722_BYTES_PER_MS) {
        throw new Error(`${path(u.g722)}: ${g.length} bytes, expected ${spanMs * G722_BYTES_PER_MS} for span ${u.span_start_ms}-${u.span_end_ms} ms`);
      }
      g722.set(g, u.span_start_ms * G722_BYTES_PER_MS);
      const n = spanMs / BASE_FRAME_MS;
      const first = u.span_start_ms / BASE_FRAME_MS;
      const [p1, p2] = await Promise.all([readOpus(path(u.opus_mono), 1, n), readOpus(path(u.opus_stereo), 2, n)]);
      for (let k = 0; k < n; k++) {
        opus1[first + k] = p1[k]!;
        opus2[first + k] = p2[k]!;
      }
    }
    tracks.set(s.key, { pcm: mixClips(masterLength, own.map((x) => x.clip)), g722, opus: { 1: opus1, 2: opus2 } });
  }

  // ---- lazy, cached encoding ----
  const pcmCache = new Map<string, Int16Array>(); // `${track}|${rate}`
  const frameCache = new Map<string, readonly (Uint8Array | null)[]>();

  const pcmAt = (trackKey: string, rate: number): Int16Array => {
    const key = `${trackKey}|${rate}`;
    let pcm = pcmCache.get(key);
    if (!pcm) {
      const master = tracks.get(trackKey)!.pcm;
      // Circular: the program loops, so the filter must see the loop's end before its start (seamless tiling).
      pcm = rate === MASTER_RATE ? master : resample(master, MASTER_RATE, rate, { circular: true });
      pcmCache.set(key, pcm);
    }
    return pcm;
  };

  const streamCache = new Map<string, Uint8Array>(); // `${track}|${codec}|${rate}|${channels}`
  /** The whole loop's bytes in `format`, for the byte-sliceable codecs; shared by every frameMs. */
  const streamBytes = (trackKey: string, format: AudioFormat): Uint8Array => {
    const key = `${trackKey}|${format.codec}|${format.sampleRate}|${format.channels}`;
    let bytes = streamCache.get(key);
    if (!bytes) {
      bytes = encodeStream(trackKey, format);
      streamCache.set(key, bytes);
    }
    return bytes;
  };
  const encodeStream = (trackKey: string, format: AudioFormat): Uint8Array => {
    switch (format.codec) {
      case 'L16': {
        const pcm = pcmAt(trackKey, format.sampleRate);
        return int16ToLeBytes(format.channels === 2 ? monoToStereo(pcm) : pcm);
      }
      case 'G711':
        return encodeMulaw(pcmAt(trackKey, 8000));
      case 'G722':
        return tracks.get(trackKey)!.g722;
      case 'OPUS':
        throw new Error('unreachable: Opus is packetised, not sliced');
    }
  };

  const build = (trackKey: string, format: AudioFormat, frameMs: number): readonly (Uint8Array | null)[] => {
    validateAudioFormat(format, frameMs);
    const cacheKey = `${trackKey}|${format.codec}|${format.sampleRate}|${format.channels}|${frameMs}`;
    const cached = frameCache.get(cacheKey);
    if (cached) return cached;
    const count = Math.floor(durationMs / frameMs);
    const own = trackKey === '' ? null : utterances.filter((u) => u.speaker === trackKey);
    const active = (i: number) => own === null || own.some((u) => overlapsFrame(u, i, frameMs));
    let frames: (Uint8Array | null)[];
    if (format.codec === 'OPUS') {
      const packets = tracks.get(trackKey)!.opus[format.channels];
      frames = packets.map((p, i) => (active(i) ? p : null));
      frames.forEach((f, i) => {
        if (active(i) && !f) throw new Error(`internal: missing Opus packet ${i} for "${trackKey}"`);
      });
    } else {
      const bytes = streamBytes(trackKey, format);
      const size = frameBytes(format, frameMs);
      // count * size <= bytes.length; a remainder (frameMs not dividing the loop) is tail silence, left out.
      if (bytes.length < size * count) throw new Error(`internal: ${format.codec} stream is ${bytes.length} bytes, need ${size * count}`);
      frames = [];
      // Views into one buffer: no per-frame copies, and the bytes are shared by every stream.
      for (let i = 0; i < count; i++) frames.push(active(i) ? bytes.subarray(i * size, (i + 1) * size) : null);
    }
    const frozen = Object.freeze(frames);
    frameCache.set(cacheKey, frozen);
    return frozen;
  };

  return {
    durationMs,
    speakers,
    utterances,
    chat,
    mixedFrames(format, frameMs) {
      return build('', format, frameMs) as readonly Uint8Array[];
    },
    speakerFrames(speakerKey, format, frameMs) {
      if (!speakers.some((s) => s.key === speakerKey)) {
        throw new Error(`unknown speaker "${speakerKey}" (known: ${speakers.map((s) => s.key).join(', ')})`);
      }
      return build(speakerKey, format, frameMs);
    },
  };
}

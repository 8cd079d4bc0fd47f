// RIFF/WAVE with 16-bit PCM: read (the speech clips) and write (the reference client saves received L16 audio,
// spec §8). Only integer PCM s16le is accepted; anything else is an error that names the file and the field.
import { z } from 'zod';

export interface PcmAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved s16 samples. */
  samples: Int16Array;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

const fmtSchema = z.object({
  audioFormat: z.union([z.literal(WAVE_FORMAT_PCM), z.literal(WAVE_FORMAT_EXTENSIBLE)], {
    error: 'must be 1 (PCM) or 0xFFFE (extensible PCM)',
  }),
  channels: z.number().int().min(1).max(8),
  sampleRate: z.number().int().min(1000).max(384000),
  byteRate: z.number().int(),
  blockAlign: z.number().int(),
  bitsPerSample: z.literal(16, { error: 'must be 16 (s16le)' }),
});

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

/** Parse a PCM s16le WAV. `name` (usually the file path) prefixes every error. */
export function parseWav(bytes: Uint8Array, name = 'WAV'): PcmAudio {
  const fail = (msg: string): never => {
    throw new Error(`${name}: ${msg}`);
  };
  if (bytes.length < 12 || fourcc(bytes, 0) !== 'RIFF' || fourcc(bytes, 8) !== 'WAVE') {
    fail('not a RIFF/WAVE file (header: RIFF....WAVE)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: z.infer<typeof fmtSchema> | undefined;
  let data: Uint8Array | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourcc(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    // Writers sometimes leave the data size at 0 or 0xFFFFFFFF while streaming: take what is there.
    const end = Math.min(body + size, bytes.length);
    if (id === 'fmt ') {
      if (size < 16) fail(`fmt chunk: size ${size} < 16`);
      const raw = {
        audioFormat: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        byteRate: view.getUint32(body + 8, true),
        blockAlign: view.getUint16(body + 12, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
      const parsed = fmtSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        fail(`fmt chunk field ${issue.path.join('.')}: ${issue.message} (got ${JSON.stringify(raw)})`);
      }
      fmt = parsed.data;
      if (fmt!.blockAlign !== fmt!.channels * 2) fail(`fmt chunk field blockAlign: ${fmt!.blockAlign} != channels * 2`);
    } else if (id === 'data') {
      data = bytes.subarray(body, end);
    }
    at = body + size + (size & 1); // chunks are word-aligned
  }
  if (!fmt) return fail('no fmt chunk');
  if (!data) return fail('no data chunk');
  const frameBytes = fmt.channels * 2;
  const usable = data.length - (data.length % frameBytes);
  const samples = new Int16Array(usable / 2);
  const dv = new DataView(data.buffer, data.byteOffset, usable);
  for (let i = 0; i < samples.length; i++) samples[i] = dv.getInt16(2 * i, true);
  return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples };
}

/** The 44-byte canonical header for `dataBytes` bytes of s16le PCM. */
export function wavHeader(dataBytes: number, sampleRate: number, channels: number): Uint8Array {
  const header = new Uint8Array(44);
  const view = new DataView(header.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) header[at + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, WAVE_FORMAT_PCM, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  return header;
}

/** Whole WAV file from interleaved s16 samples, or from s16le bytes as received in L16 audio messages. */
export function encodeWav(pcm: Int16Array | Uint8Array, sampleRate: number, channels: number): Uint8Array {
  let bytes: Uint8Array;
  if (pcm instanceof Int16Array) {
    bytes = new Uint8Array(pcm.length * 2);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < pcm.length; i++) view.setInt16(2 * i, pcm[i]!, true);
  } else {
    bytes = pcm;
  }
  const out = new Uint8Array(44 + bytes.length);
  out.set(wavHeader(bytes.length, sampleRate, channels), 0);
  out.set(bytes, 44);
  return out;
}

/** Collects L16 chunks (e.g. one per audio message) and produces a WAV file at the end. */
export class WavWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  constructor(
    readonly sampleRate: number,
    readonly channels: number,
  ) {
    if (![1, 2].includes(channels)) throw new Error(`WavWriter: channels must be 1 or 2 (got ${channels})`);
  }

  /** Append s16le bytes (copied, so the caller may reuse its buffer). */
  append(pcm: Uint8Array): void {
    this.chunks.push(pcm.slice());
    this.size += pcm.length;
  }

  get byteLength(): number {
    return this.size;
  }

  get durationMs(): number {
    return (this.size / (2 * this.channels) / this.sampleRate) * 1000;
  }

  toBytes(): Uint8Array {
    // An odd trailing byte cannot be a sample: drop it so the header stays consistent.
    const usable = this.size - (this.size % (2 * this.channels));
    const out = new Uint8Array(44 + usable);
    out.set(wavHeader(usable, this.sampleRate, this.channels), 0);
    let at = 44;
    for (const c of this.chunks) {
      const n = Math.min(c.length, out.length - at);
      out.set(c.subarray(0, n), at);
      at += n;
    }
    return out;
  }
}

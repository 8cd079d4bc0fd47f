// Writes what a stream delivers to disk, so a user can listen to and read what the app received:
//   <stream_id>.wav              L16 audio (mixed stream), <stream_id>.<user_id>.wav per speaker (multi-stream)
//   <stream_id>.transcript.txt   "[start-end] name: text", times relative to the stream's first packet
//   <stream_id>.chat.txt         "[time] name: text"
//   <stream_id>.<kind>.raw       anything else (OPUS/G711/G722 audio, JPG/PNG/H264 video and share), concatenated
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The audio format negotiated in msg 4 (spec §3.3, §6), reduced to what a WAV header needs. */
export interface AudioFormat {
  l16: boolean;
  sampleRate: number;
  channels: number;
}

const WAV_HEADER_BYTES = 44;

function wavHeader(sampleRate: number, channels: number, dataBytes: number): Uint8Array {
  const h = new DataView(new ArrayBuffer(WAV_HEADER_BYTES));
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) h.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  h.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  h.setUint32(16, 16, true); // fmt chunk size
  h.setUint16(20, 1, true); // PCM
  h.setUint16(22, channels, true);
  h.setUint32(24, sampleRate, true);
  h.setUint32(28, sampleRate * channels * 2, true); // byte rate: 16-bit samples (spec §8: L16)
  h.setUint16(32, channels * 2, true); // block align
  h.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  h.setUint32(40, dataBytes, true);
  return new Uint8Array(h.buffer);
}

class WavFile {
  private fd: number;
  private dataBytes = 0;

  constructor(path: string, private readonly sampleRate: number, private readonly channels: number) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, wavHeader(sampleRate, channels, 0));
  }

  append(pcm: Uint8Array): void {
    writeSync(this.fd, pcm, 0, pcm.length, WAV_HEADER_BYTES + this.dataBytes);
    this.dataBytes += pcm.length;
    // Keep the header's sizes current so the file stays playable even if the app is killed.
    writeSync(this.fd, wavHeader(this.sampleRate, this.channels, this.dataBytes), 0, WAV_HEADER_BYTES, 0);
  }

  close(): void {
    closeSync(this.fd);
  }
}

class AppendFile {
  private fd: number;
  constructor(path: string) {
    this.fd = openSync(path, 'a');
  }
  append(data: Uint8Array | string): void {
    writeSync(this.fd, typeof data === 'string' ? Buffer.from(data) : data);
  }
  close(): void {
    closeSync(this.fd);
  }
}

function clock(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  const min = Math.floor(t / 60_000);
  const sec = Math.floor((t % 60_000) / 1000);
  const milli = t % 1000;
  return `${min}:${String(sec).padStart(2, '0')}.${String(milli).padStart(3, '0')}`;
}

const asNumber = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export class StreamFiles {
  /** ms epoch that transcript/chat times are shown relative to (FIRST_PACKET_TIMESTAMP, else first message). */
  baseTime: number | undefined;
  readonly written = new Set<string>();
  private readonly wavs = new Map<string, WavFile>();
  private readonly others = new Map<string, AppendFile>();
  private readonly prefix: string;
  /** After close, writes are dropped: a closed fd number may already belong to another file. */
  private closed = false;

  constructor(private readonly dir: string, streamId: string) {
    // Stream ids are opaque; keep the file name portable.
    this.prefix = streamId.replace(/[^A-Za-z0-9._-]/g, '_');
  }

  private path(suffix: string): string {
    if (this.closed) throw new Error('stream files are closed');
    mkdirSync(this.dir, { recursive: true });
    const p = join(this.dir, `${this.prefix}${suffix}`);
    this.written.add(p);
    return p;
  }

  private file(suffix: string): AppendFile {
    let f = this.others.get(suffix);
    if (!f) {
      f = new AppendFile(this.path(suffix));
      this.others.set(suffix, f);
    }
    return f;
  }

  private relative(ts: number | undefined): number {
    if (ts === undefined) return 0;
    this.baseTime ??= ts;
    return ts - this.baseTime;
  }

  /** msg 14 (spec §7): base64 `data`; user_id 0 is the mixed stream. */
  audio(content: Record<string, unknown>, format: AudioFormat): void {
    if (this.closed) return;
    const bytes = Buffer.from(String(content.data ?? ''), 'base64');
    this.relative(asNumber(content.timestamp));
    if (!format.l16) {
      this.file('.audio.raw').append(bytes);
      return;
    }
    const user = asNumber(content.user_id) ?? 0;
    const suffix = user === 0 ? '.wav' : `.${user}.wav`;
    let wav = this.wavs.get(suffix);
    if (!wav) {
      wav = new WavFile(this.path(suffix), format.sampleRate, format.channels);
      this.wavs.set(suffix, wav);
    }
    wav.append(bytes);
  }

  /** msg 15 / 16 (spec §7): base64 images or H264 access units. */
  video(kind: 'video' | 'share', content: Record<string, unknown>): void {
    if (this.closed) return;
    this.relative(asNumber(content.timestamp));
    this.file(`.${kind}.raw`).append(Buffer.from(String(content.data ?? ''), 'base64'));
  }

  /** msg 17 (spec §7): plain-text `data`, `start_time`/`end_time` in ms epoch (seed: only `timestamp`). */
  transcript(content: Record<string, unknown>): void {
    if (this.closed) return;
    const start = asNumber(content.start_time) ?? asNumber(content.timestamp);
    const end = asNumber(content.end_time) ?? start;
    const from = this.relative(start);
    const to = end === undefined ? from : this.relative(end);
    const name = content.user_name ?? content.user_id ?? 'unknown';
    this.file('.transcript.txt').append(`[${clock(from)}-${clock(to)}] ${name}: ${content.data ?? ''}\n`);
  }

  /** msg 18 (spec §7): plain-text `data`. */
  chat(content: Record<string, unknown>): void {
    if (this.closed) return;
    const at = this.relative(asNumber(content.timestamp));
    const name = content.user_name ?? content.user_id ?? 'unknown';
    this.file('.chat.txt').append(`[${clock(at)}] ${name}: ${content.data ?? ''}\n`);
  }

  close(): void {
    this.closed = true;
    for (const f of this.wavs.values()) f.close();
    for (const f of this.others.values()) f.close();
    this.wavs.clear();
    this.others.clear();
  }
}

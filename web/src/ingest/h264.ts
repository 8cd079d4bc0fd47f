// H.264 for the ingest socket (Annex-B, one access unit per frame, SPS/PPS before every key frame): WebCodecs'
// VideoEncoder where the browser has an AVC encoder, else ffmpeg.wasm (libx264) encoding one-second batches in
// its worker, which adds about a second of delay.
import type { FFmpeg } from '@ffmpeg/ffmpeg';
import { loadFfmpeg } from '../ffmpeg-loader.ts';

export interface H264Output { (data: Uint8Array, keyFrame: boolean, captureMs: number): void }

export interface H264Encoder {
  readonly kind: 'webcodecs' | 'ffmpeg';
  /** Encodes the canvas' current picture. */
  encode(canvas: OffscreenCanvas, captureMs: number, keyFrame: boolean): void;
  /** True while the encoder is behind: skip this frame. */
  readonly busy: boolean;
  close(): void;
}

/** avc1 codec string: Constrained Baseline at a level that fits the size and rate. */
function avcCodec(width: number, height: number, fps: number): string {
  const mbs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const rate = mbs * fps;
  // level → [max macroblocks per frame, per second]
  const levels: [number, number, number][] = [[0x1f, 3600, 108000], [0x20, 5120, 216000], [0x28, 8192, 245760], [0x2a, 8704, 522240], [0x32, 22080, 589824], [0x33, 36864, 983040]];
  const level = levels.find(([, f, s]) => mbs <= f && rate <= s)?.[0] ?? 0x33;
  return `avc1.42E0${level.toString(16).padStart(2, '0').toUpperCase()}`;
}

function bitrate(width: number, height: number, fps: number): number {
  return Math.max(300_000, Math.min(8_000_000, Math.round(width * height * fps * 0.12)));
}

const supportCache = new Map<string, Promise<VideoEncoderConfig | null>>();

/** localStorage "rtms-mock:h264" = "ffmpeg" forces the ffmpeg.wasm encoder (to try the fallback on any browser). */
function forcedFfmpeg(): boolean {
  try { return localStorage.getItem('rtms-mock:h264') === 'ffmpeg'; } catch { return false; }
}

/** The WebCodecs config to use for this format, or null when the browser has no AVC encoder for it. */
export function webCodecsConfig(width: number, height: number, fps: number): Promise<VideoEncoderConfig | null> {
  const key = `${width}x${height}@${fps}`;
  let p = supportCache.get(key);
  if (!p) {
    p = (async () => {
      if (typeof VideoEncoder === 'undefined' || forcedFfmpeg()) return null;
      const config: VideoEncoderConfig = {
        codec: avcCodec(width, height, fps), width, height, framerate: fps, bitrate: bitrate(width, height, fps),
        latencyMode: 'realtime', avc: { format: 'annexb' },
      };
      try {
        const r = await VideoEncoder.isConfigSupported(config);
        return r.supported ? config : null;
      } catch {
        return null;
      }
    })();
    supportCache.set(key, p);
  }
  return p;
}

/** NAL unit types present in an Annex-B buffer. */
export function nalTypes(data: Uint8Array): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && (data[i + 2] === 1 || (data[i + 2] === 0 && data[i + 3] === 1))) {
      const start = data[i + 2] === 1 ? i + 3 : i + 4;
      if (start < data.length) types.push(data[start]! & 0x1f);
      i = start;
    }
  }
  return types;
}

/** Splits Annex-B into NAL units (each with its start code). */
function splitNals(data: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      starts.push(i > 0 && data[i - 1] === 0 ? i - 1 : i);
      i += 2;
    }
  }
  return starts.map((s, k) => data.subarray(s, starts[k + 1] ?? data.length));
}

export class WebCodecsH264 implements H264Encoder {
  readonly kind = 'webcodecs' as const;
  private readonly encoder: VideoEncoder;
  private readonly times = new Map<number, number>();
  /** Parameter sets of the last key frame, prepended if the encoder leaves them out. */
  private paramSets: Uint8Array | null = null;
  private n = 0;

  constructor(config: VideoEncoderConfig, private readonly out: H264Output, onError: (message: string) => void) {
    this.encoder = new VideoEncoder({
      output: (chunk) => {
        const data = new Uint8Array(chunk.byteLength);
        chunk.copyTo(data);
        const key = chunk.type === 'key';
        const captureMs = this.times.get(chunk.timestamp) ?? Date.now();
        this.times.delete(chunk.timestamp);
        this.out(key ? this.withParamSets(data) : data, key, captureMs);
      },
      error: (e) => onError(`H.264 encoder (WebCodecs) failed: ${e.message}`),
    });
    this.encoder.configure(config);
  }

  private withParamSets(data: Uint8Array): Uint8Array {
    const nals = splitNals(data);
    const ps = nals.filter((n) => { const t = (n[n[2] === 1 ? 3 : 4] ?? 0) & 0x1f; return t === 7 || t === 8; });
    if (ps.length >= 2) {
      const len = ps.reduce((a, n) => a + n.length, 0);
      this.paramSets = new Uint8Array(len);
      let o = 0;
      for (const n of ps) { this.paramSets.set(n, o); o += n.length; }
      return data;
    }
    if (!this.paramSets) return data;
    const joined = new Uint8Array(this.paramSets.length + data.length);
    joined.set(this.paramSets, 0);
    joined.set(data, this.paramSets.length);
    return joined;
  }

  get busy(): boolean {
    return this.encoder.state !== 'configured' || this.encoder.encodeQueueSize > 2;
  }

  encode(canvas: OffscreenCanvas, captureMs: number, keyFrame: boolean): void {
    if (this.encoder.state !== 'configured') return;
    const timestamp = Math.round(captureMs * 1000) + this.n++; // µs, strictly increasing
    this.times.set(timestamp, captureMs);
    if (this.times.size > 120) this.times.clear();
    const frame = new VideoFrame(canvas, { timestamp });
    try {
      this.encoder.encode(frame, { keyFrame });
    } finally {
      frame.close();
    }
  }

  close(): void {
    try { this.encoder.close(); } catch { /* closed */ }
  }
}

/**
 * Fallback: raw RGBA frames collected for one second, encoded by libx264 in ffmpeg.wasm's worker (every batch
 * starts with an IDR carrying SPS/PPS), then sent one access unit per frame at the format's rate.
 */
export class FfmpegH264 implements H264Encoder {
  readonly kind = 'ffmpeg' as const;
  private ff: FFmpeg | null = null;
  private loading: Promise<void> | null = null;
  private batch: Uint8Array[] = [];
  private batchTimes: number[] = [];
  private encoding = false;
  private closed = false;
  private pending: ReturnType<typeof setTimeout>[] = [];
  private seq = 0;

  constructor(private readonly width: number, private readonly height: number, private readonly fps: number,
    private readonly out: H264Output, private readonly onError: (message: string) => void) {
    this.loading = loadFfmpeg().then((ff) => { if (this.closed) ff.terminate(); else this.ff = ff; })
      .catch((err: Error) => this.onError(`H.264 needs ffmpeg.wasm here (no WebCodecs encoder), and it failed: ${err.message}`));
  }

  get busy(): boolean {
    return this.ff === null || (this.encoding && this.batch.length >= this.fps);
  }

  encode(canvas: OffscreenCanvas, captureMs: number): void {
    if (!this.ff || this.closed) return;
    const ctx = canvas.getContext('2d')!;
    this.batch.push(new Uint8Array(ctx.getImageData(0, 0, this.width, this.height).data.buffer));
    this.batchTimes.push(captureMs);
    if (this.batch.length >= this.fps && !this.encoding) void this.flush();
  }

  private async flush(): Promise<void> {
    const ff = this.ff;
    if (!ff) return;
    const frames = this.batch;
    const times = this.batchTimes;
    this.batch = [];
    this.batchTimes = [];
    this.encoding = true;
    const id = this.seq++;
    const input = `in${id}.rgba`;
    const output = `out${id}.h264`;
    try {
      const raw = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
      let o = 0;
      for (const f of frames) { raw.set(f, o); o += f.length; }
      await ff.writeFile(input, raw);
      const code = await ff.exec(['-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${this.width}x${this.height}`, '-r', String(this.fps), '-i', input,
        '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
        '-g', String(frames.length), '-bf', '0', '-x264-params', 'aud=1:repeat-headers=1', '-f', 'h264', output]);
      if (code !== 0) throw new Error(`libx264 exited with ${code}`);
      const data = (await ff.readFile(output)) as Uint8Array;
      await ff.deleteFile(input).catch(() => undefined);
      await ff.deleteFile(output).catch(() => undefined);
      if (this.closed) return;
      const units = accessUnits(data);
      const step = 1000 / this.fps;
      units.forEach((au, i) => {
        const t = setTimeout(() => { if (!this.closed) this.out(au, i === 0 || nalTypes(au).includes(5), times[i] ?? Date.now()); }, i * step);
        this.pending.push(t);
      });
      if (this.pending.length > 200) this.pending.splice(0, this.pending.length - 200);
    } catch (err) {
      this.onError(`H.264 (ffmpeg.wasm) failed: ${(err as Error)?.message ?? err}`);
    } finally {
      this.encoding = false;
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.pending) clearTimeout(t);
    void this.loading?.then(() => this.ff?.terminate());
  }
}

/** Splits an Annex-B stream written with access unit delimiters (type 9) into access units. */
export function accessUnits(data: Uint8Array): Uint8Array[] {
  const nals = splitNals(data);
  const units: Uint8Array[][] = [];
  for (const n of nals) {
    const t = (n[n[2] === 1 ? 3 : 4] ?? 0) & 0x1f;
    if (t === 9 || units.length === 0) units.push([]);
    if (t !== 9) units[units.length - 1]!.push(n);
  }
  return units.filter((u) => u.length > 0).map((u) => {
    const out = new Uint8Array(u.reduce((a, n) => a + n.length, 0));
    let o = 0;
    for (const n of u) { out.set(n, o); o += n.length; }
    return out;
  });
}

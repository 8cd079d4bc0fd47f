// Video for the ingest socket: for each format the mock `wants` (codec, size, fps) a paced loop draws the
// source into a canvas of exactly that size (letterboxed) and encodes it: JPG/PNG with the canvas' encoder,
// H.264 with WebCodecs or ffmpeg.wasm (./h264.ts). Formats come and go as apps connect and leave.
import { FfmpegH264, WebCodecsH264, webCodecsConfig, type H264Encoder } from './h264.ts';
import { formatKey, type IngestClient, type VideoFormat, type VideoKind } from './ingest-client.ts';

/** Something that can paint its current picture; false while it has none yet. */
export interface FrameSource {
  draw(ctx: OffscreenCanvasRenderingContext2D, width: number, height: number): boolean;
}

/** Draws `img` (of intrinsic size sw×sh) centred in w×h with black bars, keeping its aspect ratio. */
export function drawContained(ctx: OffscreenCanvasRenderingContext2D, img: CanvasImageSource, sw: number, sh: number, w: number, h: number): void {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, w, h);
  if (!sw || !sh) return;
  const s = Math.min(w / sw, h / sh);
  const dw = Math.round(sw * s);
  const dh = Math.round(sh * s);
  ctx.drawImage(img, Math.round((w - dw) / 2), Math.round((h - dh) / 2), dw, dh);
}

/** A <video> element (camera or screen): ready once it has presented a frame (a plain loadeddata can be black). */
export function videoElementSource(video: HTMLVideoElement): FrameSource & { ready: Promise<void> } {
  let ready = false;
  const readyP = new Promise<void>((resolve) => {
    const done = () => { ready = true; resolve(); };
    const v = video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: () => void) => number };
    if (typeof v.requestVideoFrameCallback === 'function') v.requestVideoFrameCallback(() => done());
    else video.addEventListener('playing', () => setTimeout(done, 100), { once: true });
  });
  return {
    ready: readyP,
    draw(ctx, w, h) {
      if (!ready || video.videoWidth === 0) return false;
      drawContained(ctx, video, video.videoWidth, video.videoHeight, w, h);
      return true;
    },
  };
}

export interface SenderStats { formats: string[]; frames: number; skipped: number; h264: 'webcodecs' | 'ffmpeg' | null }

class FormatLoop {
  private readonly canvas: OffscreenCanvas;
  private ctx: OffscreenCanvasRenderingContext2D | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private next = 0;
  private busy = false;
  private stopped = false;
  private h264: H264Encoder | null = null;
  private frameNo = 0;
  private forceKey = true;
  /** When the last JPG/PNG frame went to the socket (performance.now()). */
  private lastEmit = -Infinity;

  constructor(readonly format: VideoFormat, private readonly owner: VideoSender) {
    this.canvas = new OffscreenCanvas(format.width, format.height);
  }

  async start(): Promise<void> {
    const f = this.format;
    if (f.codec === 'H264') {
      const config = await webCodecsConfig(f.width, f.height, f.fps);
      if (this.stopped) return;
      const out = (data: Uint8Array, key: boolean, captureMs: number) => this.owner.emit(f, data, key, captureMs);
      this.h264 = config
        ? new WebCodecsH264(config, out, (m) => this.owner.problem(m))
        : new FfmpegH264(f.width, f.height, f.fps, out, (m) => this.owner.problem(m));
      this.owner.stats.h264 = this.h264.kind;
    }
    // The ffmpeg.wasm encoder reads pixels back for every frame.
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: this.h264?.kind === 'ffmpeg' })!;
    this.next = performance.now();
    this.tick();
  }

  requestKeyFrame(): void {
    this.forceKey = true;
  }

  private tick = (): void => {
    if (this.stopped) return;
    const interval = 1000 / this.format.fps;
    this.next += interval;
    const now = performance.now();
    // Late (a busy page, a tab in the background): skip the missed slots of the grid instead of sending them in a
    // burst, as a camera drops frames. Apps get at most the negotiated fps (spec §8), never two frames at once.
    if (this.next <= now) {
      const missed = Math.floor((now - this.next) / interval) + 1;
      this.next += missed * interval;
      this.owner.stats.skipped += missed;
    }
    this.timer = setTimeout(this.tick, this.next - now);
    if (!this.owner.enabled) return;
    this.frame();
  };

  private frame(): void {
    const f = this.format;
    if (this.busy || (this.h264?.busy ?? false)) { this.owner.stats.skipped++; return; }
    if (!this.ctx || !this.owner.source.draw(this.ctx, f.width, f.height)) return;
    const captureMs = Date.now();
    if (f.codec === 'H264') {
      if (!this.h264) return;
      // A key frame first, after a wants change, and every second (the spec asks for at least every 2 s).
      const key = this.forceKey || this.frameNo % Math.max(1, Math.round(f.fps)) === 0;
      this.forceKey = false;
      this.frameNo++;
      this.h264.encode(this.canvas, captureMs, key);
      return;
    }
    this.busy = true;
    this.canvas.convertToBlob(f.codec === 'PNG' ? { type: 'image/png' } : { type: 'image/jpeg', quality: 0.85 })
      .then((blob) => blob.arrayBuffer())
      .then((buf) => {
        if (this.stopped) return;
        // The mock forwards frames tagged with the app's fps as they come (docs/ingest.md §4): an encode that
        // finished late must not go out right before the next one. Independent pictures: dropping one is safe.
        const now = performance.now();
        if (now - this.lastEmit < 500 / f.fps) { this.owner.stats.skipped++; return; }
        this.lastEmit = now;
        this.owner.emit(f, new Uint8Array(buf), true, captureMs);
      })
      .catch((err: Error) => this.owner.problem(`could not encode a ${f.codec} frame: ${err.message}`))
      .finally(() => { this.busy = false; });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.h264?.close();
  }
}

export class VideoSender {
  private readonly loops = new Map<string, FormatLoop>();
  readonly stats: SenderStats = { formats: [], frames: 0, skipped: 0, h264: null };
  /** False while the camera is off / the share is stopped: nothing is sent. */
  enabled = true;

  constructor(readonly kind: VideoKind, public source: FrameSource, private readonly client: IngestClient,
    private readonly onProblem: (message: string) => void) {}

  /** Applies the latest `wants` list for this kind. */
  setWants(formats: VideoFormat[]): void {
    const wanted = new Map(formats.map((f) => [formatKey(f), f]));
    for (const [key, loop] of this.loops) if (!wanted.has(key)) { loop.stop(); this.loops.delete(key); }
    for (const [key, f] of wanted) {
      const existing = this.loops.get(key);
      if (existing) { existing.requestKeyFrame(); continue; }
      const loop = new FormatLoop(f, this);
      this.loops.set(key, loop);
      loop.start().catch((err: Error) => this.problem(`video ${key}: ${err.message}`));
    }
    this.stats.formats = [...this.loops.keys()];
  }

  emit(f: VideoFormat, data: Uint8Array, key: boolean, captureMs: number): void {
    if (this.client.sendVideo(this.kind, f, key, data, captureMs)) this.stats.frames++;
  }

  problem(message: string): void {
    this.onProblem(message);
  }

  stop(): void {
    for (const loop of this.loops.values()) loop.stop();
    this.loops.clear();
    this.stats.formats = [];
  }
}

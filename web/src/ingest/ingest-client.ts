// The page's side of the ingest WebSocket (docs/ingest.md): hello → welcome + wants, then binary media frames
// (16-byte header + payload) and text messages (transcript, chat, camera, share).

export type VideoCodec = 'JPG' | 'PNG' | 'H264';
export interface VideoFormat { codec: VideoCodec; width: number; height: number; fps: number }
export type VideoKind = 'camera' | 'share';

export interface Welcome {
  type: 'welcome';
  meeting_uuid: string;
  user_id: number;
  user_name: string;
  audio: { format: 's16le'; sample_rate: number; channels: number };
}
export interface Wants { type: 'wants'; camera: VideoFormat[]; share: VideoFormat[] }

export interface Hello { user_name: string; user_id?: number; audio: boolean; camera: boolean; share: boolean }

export const KIND = { audio: 1, camera: 2, share: 3 } as const;
export const CODEC = { L16: 1, JPG: 5, PNG: 6, H264: 7 } as const;
const HEADER_BYTES = 16;
/** Video frames are dropped (and counted) while the socket has more than this queued. */
const MAX_BUFFERED = 8 * 1024 * 1024;

const CLOSE_REASONS: Record<number, string> = {
  4400: 'the mock refused the hello (bad JSON or fields)',
  4401: 'the API token is missing or wrong (the mock runs with --api-token)',
  4404: 'the meeting does not exist (was it ended?)',
  4408: 'no hello within 10 s',
  4409: 'the meeting is not live (ended, or synthetic meetings take no ingest)',
  1006: 'the connection to the mock was lost (is the server still running?)',
};

export interface IngestStats { audioFrames: number; videoFrames: number; bytes: number; droppedVideo: number; errors: number }

export interface IngestHandlers {
  onWants?(w: Wants): void;
  /** The socket closed; `expected` is true after close() was called here. */
  onClose?(code: number, reason: string, expected: boolean): void;
  /** The mock reported a problem with something sent (the socket stays open). */
  onServerError?(code: number, message: string): void;
}

/** Builds one binary frame: header + payload. */
export function ingestFrame(kind: number, codec: number, byte2: number, width: number, height: number, captureMs: number, payload: Uint8Array, byte3 = 0): ArrayBuffer {
  const buf = new ArrayBuffer(HEADER_BYTES + payload.byteLength);
  const v = new DataView(buf);
  v.setUint8(0, kind);
  v.setUint8(1, codec);
  v.setUint8(2, byte2);
  v.setUint8(3, byte3);
  v.setUint16(4, width, true);
  v.setUint16(6, height, true);
  v.setFloat64(8, captureMs, true);
  new Uint8Array(buf, HEADER_BYTES).set(payload);
  return buf;
}

export class IngestClient {
  private ws: WebSocket | null = null;
  welcome: Welcome | null = null;
  wants: Wants = { type: 'wants', camera: [], share: [] };
  readonly stats: IngestStats = { audioFrames: 0, videoFrames: 0, bytes: 0, droppedVideo: 0, errors: 0 };
  private closing = false;
  lastError = '';

  constructor(readonly meetingUuid: string, private readonly hello: Hello, private readonly handlers: IngestHandlers = {}) {}

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Opens the socket and resolves with the welcome (rejects with a message saying why it failed). */
  connect(timeoutMs = 10_000): Promise<Welcome> {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ingest?meeting_uuid=${encodeURIComponent(this.meetingUuid)}`;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    return new Promise<Welcome>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => finish(new Error(`the mock did not answer the ingest hello within ${timeoutMs / 1000} s`)), timeoutMs);
      const finish = (err: Error | null, w?: Welcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) { reject(err); try { ws.close(); } catch { /* closed */ } } else resolve(w!);
      };
      ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', ...this.hello }));
      ws.onmessage = (ev) => {
        if (typeof ev.data !== 'string') return;
        let msg: Record<string, unknown>;
        try { msg = JSON.parse(ev.data) as Record<string, unknown>; } catch { return; }
        switch (msg.type) {
          case 'welcome':
            this.welcome = msg as unknown as Welcome;
            finish(null, this.welcome);
            break;
          case 'wants':
            this.wants = { type: 'wants', camera: (msg.camera as VideoFormat[] | undefined) ?? [], share: (msg.share as VideoFormat[] | undefined) ?? [] };
            this.handlers.onWants?.(this.wants);
            break;
          case 'error':
            this.stats.errors++;
            this.lastError = `${msg.code}: ${msg.message}`;
            if (!settled) finish(new Error(`the mock refused the ingest connection (${msg.code}): ${msg.message}`));
            else this.handlers.onServerError?.(Number(msg.code), String(msg.message));
            break;
          default:
            break;
        }
      };
      ws.onerror = () => { /* the close event carries the code */ };
      ws.onclose = (ev) => {
        const why = ev.reason || CLOSE_REASONS[ev.code] || `closed with code ${ev.code}`;
        if (!settled) {
          finish(new Error(ev.code === 1006 && !this.lastError
            ? 'could not open the ingest socket (ws://…/ingest): is the mock running, and recent enough to accept live media?'
            : `the ingest socket closed (${ev.code}): ${this.lastError || why}`));
        }
        this.handlers.onClose?.(ev.code, why, this.closing);
      };
    });
  }

  sendAudio(pcm: Int16Array, channels: number, captureMs: number): void {
    if (!this.open) return;
    const payload = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const frame = ingestFrame(KIND.audio, CODEC.L16, channels, 0, 0, captureMs, payload);
    this.ws!.send(frame);
    this.stats.audioFrames++;
    this.stats.bytes += frame.byteLength;
  }

  /** Sends one encoded video frame; returns false when it was dropped (socket closed or backed up). */
  sendVideo(kind: VideoKind, f: VideoFormat, keyFrame: boolean, data: Uint8Array, captureMs: number): boolean {
    if (!this.open) return false;
    if (this.ws!.bufferedAmount > MAX_BUFFERED) { this.stats.droppedVideo++; return false; }
    // Byte 3 names the fps of the wanted format the frame was made for (the mock treats 0 as "not said").
    const frame = ingestFrame(KIND[kind], CODEC[f.codec], keyFrame ? 1 : 0, f.width, f.height, captureMs, data, Math.min(255, Math.round(f.fps)));
    this.ws!.send(frame);
    this.stats.videoFrames++;
    this.stats.bytes += frame.byteLength;
    return true;
  }

  sendText(msg: { type: 'transcript'; text: string; start_time?: number; end_time?: number; language?: string } | { type: 'chat'; text: string } | { type: 'camera' | 'share'; on: boolean }): boolean {
    if (!this.open) return false;
    this.ws!.send(JSON.stringify(msg));
    return true;
  }

  close(): void {
    this.closing = true;
    try { this.ws?.close(1000, 'participant left'); } catch { /* already closed */ }
  }
}

/** A format's identity, for diffing `wants` lists. */
export function formatKey(f: VideoFormat): string {
  return `${f.codec}:${f.width}x${f.height}@${f.fps}`;
}
